namespace Recommender.Abstractions;

/// <summary>Input limits shared by the API's validation and the grains' own checks.</summary>
public static class Limits
{
    public const int MaxIdLength = 256;
    public const int MaxK = 1000;
    public const int MaxTitleLength = 1000;
    public const int MaxTextLength = 20_000;
    public const int MaxTags = 200;
    public const int MaxTagLength = 200;
    public const long MaxBodyBytes = 1024 * 1024;
    public const int MaxExclude = 1000;

    /// <summary>A model upload (all three files) may be this large; Orleans carries it to the registry in one message.</summary>
    public const long MaxModelUploadBytes = 64L * 1024 * 1024;

    /// <summary>Events may carry timestamps at most this far ahead of the server clock.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromDays(1);
}

using System.Globalization;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Recommender.Api.Validation;

/// <summary>
/// The entity tags of If-Match and If-None-Match (RFC 9110, section 8.8.3), as the answers of this API give them: a
/// number in double quotes, such as "7" (the scenarios' revision, an item's version).
/// </summary>
public static class EntityTags
{
    public const string IfMatch = "If-Match";
    public const string IfNoneMatch = "If-None-Match";

    public static string Of(long number) => $"\"{number.ToString(CultureInfo.InvariantCulture)}\"";

    /// <summary>The tags of a header; null, with the fault under the header's name, when it is malformed (<paramref name="example"/> says where a client finds one).</summary>
    public static IList<EntityTagHeaderValue>? Parse(StringValues values, string header, string example, ValidationErrors errors)
    {
        if (EntityTagHeaderValue.TryParseStrictList(values, out var tags) && tags.Count > 0) return tags;
        errors.Add(header, $"{header} must be * or a comma-separated list of entity tags in double quotes, such as {example}; it was '{Excerpt(values.ToString())}'.");
        return null;
    }

    /// <summary>The number a tag "N" names; null for any other tag.</summary>
    public static long? Number(string? quoted) =>
        quoted is ['"', .. var inner, '"'] && long.TryParse(inner, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : null;

    /// <summary>Whether <paramref name="tags"/> holds * and other tags, which If-Match may not.</summary>
    public static bool MixesAny(IList<EntityTagHeaderValue> tags) => tags.Count > 1 && tags.Any(t => t.Equals(EntityTagHeaderValue.Any));

    /// <summary>Whether <paramref name="tags"/> is * alone.</summary>
    public static bool IsAny(IList<EntityTagHeaderValue> tags) => tags is [var only] && only.Equals(EntityTagHeaderValue.Any);

    /// <summary><paramref name="inner"/> with <paramref name="tag"/> in its ETag header.</summary>
    public static IResult WithTag(IResult inner, string tag) => new Tagged(inner, tag);

    private sealed class Tagged(IResult inner, string tag) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.ETag = tag;
            return inner.ExecuteAsync(httpContext);
        }
    }

    private static string Excerpt(string value) => value.Length <= 100 ? value : value[..100] + "…";
}

namespace Recommender.Abstractions;

/// <summary>Stable partitioning of ids (FNV-1a, the same in every process) for the popularity and user-directory grains;
/// the event journal's partitions are picked at random per batch.</summary>
public static class Partitions
{
    public const int Popularity = 8;
    public const int UserDirectory = 16;
    public const int EventJournal = 8;

    public static int Of(string id, int count)
    {
        var hash = 2166136261u;
        foreach (var c in id)
            hash = (hash ^ c) * 16777619u;
        return (int)(hash % (uint)count);
    }
}

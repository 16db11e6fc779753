namespace Recommender.Abstractions;

/// <summary>Which bucket grain holds an item's bulk-loaded details: a stable hash (FNV-1a, the same in every process) of the id.</summary>
public static class ItemBuckets
{
    public const int Count = 64;

    public static int Of(string itemId)
    {
        var hash = 2166136261u;
        foreach (var c in itemId)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return (int)(hash % Count);
    }
}

using Recommender.Abstractions;

namespace Recommender.Grains.Popularity;

/// <summary>
/// The order in which users without history see items: the live list (decayed recent counts) above the seeded
/// all-time list, but only for items with at least a minimum of recent events, so that one stray event does not put
/// an item in front of every new visitor. Items below it compete with the seeded ones on their counts.
/// </summary>
public static class PopularCandidates
{
    /// <param name="live">The live list, highest count first.</param>
    /// <param name="seeded">The seeded list, highest count first.</param>
    /// <param name="minimumLiveCount">Recent events (decayed) an item needs to rank above the seeded list.</param>
    public static IEnumerable<PopularItem> Merge(IReadOnlyList<PopularItem> live, IReadOnlyList<PopularItem> seeded, long minimumLiveCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minimumLiveCount, 1);
        var lift = Lift(seeded);
        // Stable: among equal counts the live entry (listed first) wins and keeps its place.
        return live.Select(p => LiveCount(p, lift, minimumLiveCount) is var count && count != p.Count ? p with { Count = count } : p)
            .Concat(seeded)
            .GroupBy(p => p.ItemId, StringComparer.Ordinal)
            .Select(g => g.MaxBy(p => p.Count)!)
            .OrderByDescending(p => p.Count);
    }

    /// <summary>
    /// The counts <see cref="Merge"/> gives those of <paramref name="itemIds"/> that either list holds, found without
    /// merging the lists (a list's pinned items, which need their counts alone).
    /// </summary>
    public static Dictionary<string, long> CountsOf(IReadOnlyList<PopularItem> live, IReadOnlyList<PopularItem> seeded, long minimumLiveCount,
        IReadOnlySet<string> itemIds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minimumLiveCount, 1);
        var lift = Lift(seeded);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        void Take(string itemId, long count)
        {
            if (itemIds.Contains(itemId) && (!counts.TryGetValue(itemId, out var known) || count > known)) counts[itemId] = count;
        }
        foreach (var p in live) Take(p.ItemId, LiveCount(p, lift, minimumLiveCount));
        foreach (var p in seeded) Take(p.ItemId, p.Count);
        return counts;
    }

    /// <summary>What a live item with enough recent events is lifted by: the largest seeded count, so that it ranks above every seeded one and the scores keep the list's order.</summary>
    private static long Lift(IReadOnlyList<PopularItem> seeded) => seeded.Count == 0 ? 0 : seeded.Max(p => p.Count);

    /// <summary>A live item's count in the merged list: lifted when it has at least <paramref name="minimumLiveCount"/> recent events.</summary>
    private static long LiveCount(PopularItem item, long lift, long minimumLiveCount) => item.Count >= minimumLiveCount ? item.Count + lift : item.Count;
}

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
        // Lifted counts exceed every seeded count, which keeps the scores in list order.
        var lift = seeded.Count == 0 ? 0 : seeded.Max(p => p.Count);
        // Stable: among equal counts the live entry (listed first) wins and keeps its place.
        return live.Select(p => p.Count >= minimumLiveCount ? p with { Count = p.Count + lift } : p)
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
        var lift = seeded.Count == 0 ? 0 : seeded.Max(p => p.Count);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        void Take(string itemId, long count)
        {
            if (itemIds.Contains(itemId) && (!counts.TryGetValue(itemId, out var known) || count > known)) counts[itemId] = count;
        }
        foreach (var p in live) Take(p.ItemId, p.Count >= minimumLiveCount ? p.Count + lift : p.Count);
        foreach (var p in seeded) Take(p.ItemId, p.Count);
        return counts;
    }
}

using Recommender.Abstractions;
using Recommender.Grains.Items;

namespace Recommender.Grains.Ranking;

/// <summary>
/// Items a list pins to fixed places (<see cref="ItemPin"/>). The ranking leaves every pinned item out wherever its place,
/// so that a page further down never lists again an item a pin puts higher up; the pins within the list's depth that
/// the list may hold are then set at their places, pushing the ranked items below them down, and the list is cut to its
/// depth again.
/// </summary>
public static class PinnedItems
{
    /// <summary>The pins whose place lies within a list ranked <paramref name="depth"/> deep, top place first.</summary>
    public static ItemPin[] Within(IReadOnlyList<ItemPin>? pins, int depth) =>
        pins is null ? [] : [.. pins.Where(p => p.Position <= depth).OrderBy(p => p.Position)];

    /// <summary>What a ranking of a list with <paramref name="pins"/> leaves out: <paramref name="exclude"/> and every pinned item.</summary>
    public static string[] RankingExcludes(string[] exclude, IReadOnlyList<ItemPin>? pins) =>
        pins is { Count: > 0 } ? [.. exclude, .. pins.Select(p => p.ItemId)] : exclude;

    /// <summary>
    /// The pinned items that a list under <paramref name="filter"/> may hold (<see cref="IItemShardGrain.Pinnable"/>), by
    /// id, with their similarity to <paramref name="query"/> when one is given.
    /// </summary>
    public static async Task<Dictionary<string, PinnableItem>> FindAsync(IGrainFactory grains, ActiveModel model, Immutable<byte[]>? query,
        IReadOnlyList<ItemPin> pins, ScanFilter filter)
    {
        var found = new Dictionary<string, PinnableItem>(StringComparer.Ordinal);
        if (pins.Count == 0) return found;
        var ids = new Immutable<string[]>([.. pins.Select(p => p.ItemId)]);
        // An added item may be in any shard, so every shard is asked (as for explanations' vectors).
        var perShard = await Task.WhenAll(Enumerable.Range(0, model.Shards).Select(i =>
            grains.GetGrain<IItemShardGrain>(new ShardKey(model.Version, i, model.Shards).ToString()).Pinnable(query, ids, filter)));
        foreach (var shard in perShard)
            foreach (var item in shard.Value)
                found.TryAdd(item.ItemId, item);
        return found;
    }

    /// <summary>
    /// <paramref name="ranked"/> with each of <paramref name="pinned"/> set at its position (1 for the top; one past the
    /// list's end when the list is shorter), lowest position first, cut to <paramref name="depth"/>.
    /// </summary>
    public static T[] Place<T>(IReadOnlyList<T> ranked, IEnumerable<(int Position, T Item)> pinned, int depth)
    {
        var list = new List<T>(ranked);
        foreach (var (position, item) in pinned.OrderBy(p => p.Position))
            list.Insert(Math.Clamp(position - 1, 0, list.Count), item);
        return [.. list.Take(depth)];
    }

    /// <summary>The ranked items with those a pin put in place marked so.</summary>
    public static RankedItem[] Mark(RankedItem[] items, IReadOnlySet<string> pinnedIds) =>
        pinnedIds.Count == 0 ? items : [.. items.Select(i => pinnedIds.Contains(i.ItemId) ? i with { Pinned = true } : i)];
}

using Recommender.Abstractions;
using Recommender.Grains.Items;

namespace Recommender.Grains.Ranking;

/// <summary>
/// Items a list pins to fixed places (<see cref="ItemPin"/>). The shards leave every pinned item out of their ranking
/// wherever its place, so that a page further down never lists again an item a pin puts higher up, and send the pinned
/// items the list may hold after it; those within the list's depth are then set at their places, pushing the ranked
/// items below them down, and the list is cut to its depth again.
/// </summary>
public static class PinnedItems
{
    /// <summary>The pins whose place lies within a list ranked <paramref name="depth"/> deep, top place first.</summary>
    public static ItemPin[] Within(IReadOnlyList<ItemPin>? pins, int depth) =>
        pins is null ? [] : [.. pins.Where(p => p.Position <= depth).OrderBy(p => p.Position)];

    /// <summary>
    /// The shards' answers to a scan of a list with pins (<see cref="ScanFilter.Pins"/>) as their ranked rows alone, and
    /// the pinned items the list may hold, which follow them (<see cref="ScoredItem.Pinned"/>), by id.
    /// </summary>
    public static (IReadOnlyList<ScoredItem>[] Ranked, Dictionary<string, ScoredItem> Pinned) Split(IReadOnlyList<ScoredItem>[] answers)
    {
        var pinned = new Dictionary<string, ScoredItem>(StringComparer.Ordinal);
        var ranked = new IReadOnlyList<ScoredItem>[answers.Length];
        for (var i = 0; i < answers.Length; i++)
        {
            var answer = answers[i];
            var first = 0;
            while (first < answer.Count && !answer[first].Pinned) first++;
            if (first == answer.Count)
            {
                ranked[i] = answer;
                continue;
            }
            ranked[i] = [.. answer.Take(first)];
            for (var j = first; j < answer.Count; j++) pinned.TryAdd(answer[j].ItemId, answer[j]);
        }
        return (ranked, pinned);
    }

    /// <summary>
    /// The pinned items a list under <paramref name="filter"/> may hold, by id, with their titles, tags and what they count
    /// against under its caps, from whichever shard holds each: a scan of no rows that sends the pins (for a list the
    /// shards do not rank, the popular one; the similarity it gives is 0).
    /// </summary>
    public static async Task<Dictionary<string, ScoredItem>> FindAsync(IGrainFactory grains, ActiveModel model, ItemPin[] pins, ScanFilter filter)
    {
        if (pins.Length == 0) return new Dictionary<string, ScoredItem>(StringComparer.Ordinal);
        var nothing = new Immutable<byte[]>(new byte[model.Dimension * sizeof(float)]);
        var scan = filter with { K = 0, Offset = 0, Diversity = 0, Pins = pins };
        // An added item may be in any shard, so every shard is asked (as for explanations' vectors).
        var answers = await Task.WhenAll(Enumerable.Range(0, model.Shards).Select(i =>
            grains.GetGrain<IItemShardGrain>(new ShardKey(model.Version, i, model.Shards).ToString()).TopK(nothing, scan)));
        return Split([.. answers.Select(a => (IReadOnlyList<ScoredItem>)a.Value)]).Pinned;
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

    /// <summary>
    /// The pinned items whose places fall on the page after <paramref name="offset"/> down to <paramref name="depth"/>
    /// that <paramref name="placed"/> says were not placed, top place first; null for none.
    /// </summary>
    public static string[]? Unplaced(IReadOnlyList<ItemPin>? pins, int offset, int depth, Func<string, bool> placed)
    {
        var unplaced = Within(pins, depth).Where(p => p.Position > offset && !placed(p.ItemId)).Select(p => p.ItemId).ToArray();
        return unplaced.Length == 0 ? null : unplaced;
    }

    /// <summary>The ranked items with those a pin put in place marked so.</summary>
    public static RankedItem[] Mark(RankedItem[] items, IReadOnlySet<string> pinnedIds) =>
        pinnedIds.Count == 0 ? items : [.. items.Select(i => pinnedIds.Contains(i.ItemId) ? i with { Pinned = true } : i)];
}

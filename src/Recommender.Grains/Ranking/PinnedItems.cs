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
    /// The shards' answers to a scan of a list with pins (<see cref="ScanFilter.Pins"/>) as their ranked rows alone; the
    /// pinned items the list may hold, which follow them (<see cref="ScoredItem.Pinned"/>), by id; and why it may not hold
    /// the others a shard has (<see cref="ScoredItem.Refusal"/>).
    /// </summary>
    public static PinScan Split(IReadOnlyList<ScoredItem>[] answers)
    {
        var pinned = new Dictionary<string, ScoredItem>(StringComparer.Ordinal);
        var refused = new Dictionary<string, PinRefusal>(StringComparer.Ordinal);
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
            for (var j = first; j < answer.Count; j++)
                if (answer[j].Refusal is { } reason) refused.TryAdd(answer[j].ItemId, reason);
                else pinned.TryAdd(answer[j].ItemId, answer[j]);
        }
        return new PinScan(ranked, pinned, refused);
    }

    /// <summary>
    /// The pinned items a list under <paramref name="filter"/> may hold, by id, with their titles, tags and what they count
    /// against under its caps, and why it may not hold the others, from whichever shard holds each: a scan of no rows
    /// that sends the pins (for a list the shards do not rank, the popular one; the similarity it gives is 0).
    /// </summary>
    public static async Task<PinScan> FindAsync(IGrainFactory grains, ActiveModel model, ItemPin[] pins, ScanFilter filter)
    {
        if (pins.Length == 0) return new PinScan([], new Dictionary<string, ScoredItem>(StringComparer.Ordinal), new Dictionary<string, PinRefusal>(StringComparer.Ordinal));
        var nothing = new Immutable<byte[]>(new byte[model.Dimension * sizeof(float)]);
        var scan = filter with { K = 0, Offset = 0, Diversity = 0, Pins = pins };
        // An added item may be in any shard, so every shard is asked (as for explanations' vectors).
        var answers = await Task.WhenAll(Enumerable.Range(0, model.Shards).Select(i =>
            grains.GetGrain<IItemShardGrain>(new ShardKey(model.Version, i, model.Shards).ToString()).TopK(nothing, scan)));
        return Split([.. answers.Select(a => (IReadOnlyList<ScoredItem>)a.Value)]);
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
    /// The pins whose places fall on the page after <paramref name="offset"/> down to <paramref name="depth"/> whose
    /// items are not in <paramref name="scan"/>'s placeable ones, top place first, each with the reason a shard gave (an
    /// item no shard has is unknown); null for none.
    /// </summary>
    public static UnplacedPin[]? Unplaced(IReadOnlyList<ItemPin>? pins, int offset, int depth, PinScan? scan)
    {
        var unplaced = Within(pins, depth)
            .Where(p => p.Position > offset && scan?.Pinned.ContainsKey(p.ItemId) != true)
            .Select(p => new UnplacedPin(p.ItemId, p.Position, scan?.Refused.GetValueOrDefault(p.ItemId, PinRefusal.Unknown) ?? PinRefusal.Unknown))
            .ToArray();
        return unplaced.Length == 0 ? null : unplaced;
    }

    /// <summary>
    /// <paramref name="unplaced"/> with each item the scan's exclusions kept out told apart by <paramref name="why"/>: the
    /// shards see one list of excluded ids, which a list makes of the request's exclusions and of its own (the user's
    /// history, the similar list's item).
    /// </summary>
    public static UnplacedPin[]? Explain(UnplacedPin[]? unplaced, Func<string, PinRefusal> why) =>
        unplaced?.Select(p => p.Reason == PinRefusal.Excluded ? p with { Reason = why(p.ItemId) } : p).ToArray();

    /// <summary>The ranked items with those a pin put in place marked so.</summary>
    public static RankedItem[] Mark(RankedItem[] items, IReadOnlySet<string> pinnedIds) =>
        pinnedIds.Count == 0 ? items : [.. items.Select(i => pinnedIds.Contains(i.ItemId) ? i with { Pinned = true } : i)];
}

/// <summary>
/// What the shards said of a list's pins: their answers' ranked rows, the pinned items the list may hold, by id, and why
/// it may not hold the others a shard has.
/// </summary>
public sealed record PinScan(IReadOnlyList<ScoredItem>[] Ranked, Dictionary<string, ScoredItem> Pinned, Dictionary<string, PinRefusal> Refused);

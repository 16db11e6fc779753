using Recommender.Abstractions;

namespace Recommender.Grains.Ranking;

/// <summary>
/// Places a list reserves for the best item of a tag (<see cref="TagSlot"/>). Walking the list down from the top, a
/// slot's place takes the most relevant candidate of its tag not already listed above it, and every other place the
/// next ranked item not already listed; pinned places are left to the pins, which are never candidates (the shards rank
/// no pinned item). So a slot adds an item of its tag at its place whatever the ranking above it holds, and pages read
/// one after another make up the list one read gives.
/// </summary>
public static class TagSlots
{
    /// <summary>
    /// The shards' answers to a scan with slots (<see cref="ScanFilter.Slots"/>) without the slot candidates they send
    /// last, and those candidates by tag (as the slots name it), best first across the shards.
    /// </summary>
    public static (IReadOnlyList<ScoredItem>[] Ranked, Dictionary<string, ScoredItem[]> Candidates) Split(IReadOnlyList<ScoredItem>[] answers)
    {
        var rest = new IReadOnlyList<ScoredItem>[answers.Length];
        var byTag = new Dictionary<string, List<IReadOnlyList<ScoredItem>>>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < answers.Length; i++)
        {
            var answer = answers[i];
            var first = 0;
            while (first < answer.Count && answer[first].Slot is null) first++;
            rest[i] = first == answer.Count ? answer : [.. answer.Take(first)];
            foreach (var group in answer.Skip(first).GroupBy(c => c.Slot!, StringComparer.OrdinalIgnoreCase))
            {
                if (!byTag.TryGetValue(group.Key, out var lists)) byTag[group.Key] = lists = [];
                lists.Add([.. group]);
            }
        }
        return (rest, byTag.ToDictionary(t => t.Key, t => SoftmaxRanking.Merge(t.Value, int.MaxValue), StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>
    /// The slots within a list ranked <paramref name="depth"/> deep, each at its place among the places the pins leave
    /// (a slot at a pinned place gives way to the pin), top place first.
    /// </summary>
    public static TagSlot[] AmongUnpinned(IReadOnlyList<TagSlot>? slots, IReadOnlyList<ItemPin>? pins, int depth)
    {
        if (slots is not { Count: > 0 }) return [];
        var pinned = (pins ?? []).Select(p => p.Position).ToHashSet();
        return [.. slots.Where(s => s.Position <= depth && !pinned.Contains(s.Position)).OrderBy(s => s.Position)
            .Select(s => s with { Position = s.Position - pinned.Count(p => p < s.Position) })];
    }

    /// <summary>
    /// <paramref name="ranked"/> with each of <paramref name="slots"/> (places counted among the unpinned ones, see
    /// <see cref="AmongUnpinned"/>) holding the best of its tag's <paramref name="candidates"/> not listed above it (the
    /// ranking filling it when there is none), <paramref name="count"/> long at most; each with the tag of the slot that
    /// placed it, or null.
    /// </summary>
    public static (T Item, string? Slot)[] Fill<T>(IReadOnlyList<T> ranked, IReadOnlyList<TagSlot> slots, Func<string, IReadOnlyList<T>> candidates,
        Func<T, string> idOf, int count) where T : class
    {
        var list = new List<(T Item, string? Slot)>(count);
        var listed = new HashSet<string>(StringComparer.Ordinal);
        var bySlot = slots.ToDictionary(s => s.Position);
        // Each tag's candidates are asked for once, however many slots it has.
        var byTag = new Dictionary<string, IReadOnlyList<T>>(StringComparer.OrdinalIgnoreCase);
        var next = 0;
        while (list.Count < count)
        {
            if (bySlot.TryGetValue(list.Count + 1, out var slot)
                && (byTag.TryGetValue(slot.Tag, out var ofTag) ? ofTag : byTag[slot.Tag] = candidates(slot.Tag)).FirstOrDefault(c => !listed.Contains(idOf(c))) is { } best)
            {
                list.Add((best, slot.Tag));
                listed.Add(idOf(best));
                continue;
            }
            while (next < ranked.Count && listed.Contains(idOf(ranked[next]))) next++;
            if (next == ranked.Count) break;
            list.Add((ranked[next], null));
            listed.Add(idOf(ranked[next++]));
        }
        return [.. list];
    }

    /// <summary>
    /// The slots whose places fall on the page after <paramref name="offset"/> of a list <paramref name="depth"/> deep that
    /// no item of their tag holds: <paramref name="listed"/> is the list's ids down to its end (or the depth), pins
    /// placed, and <paramref name="slotted"/> the items slots placed. A place a pin holds is the pin's, not a slot left
    /// unfilled. Top place first; null when there are none.
    /// </summary>
    public static TagSlot[]? Unfilled(IReadOnlyList<TagSlot>? slots, IEnumerable<int> pinnedPlaces, int offset, int depth, IReadOnlyList<string> listed,
        IReadOnlyDictionary<string, string>? slotted)
    {
        if (slots is not { Count: > 0 }) return null;
        var pinned = pinnedPlaces.ToHashSet();
        TagSlot[] unfilled = [.. slots.Where(s => s.Position > offset && s.Position <= depth && !pinned.Contains(s.Position)
                && (s.Position > listed.Count || slotted?.ContainsKey(listed[s.Position - 1]) != true))
            .OrderBy(s => s.Position)];
        return unfilled.Length == 0 ? null : unfilled;
    }

    /// <summary>The ranked items with those a slot placed marked with its tag.</summary>
    public static RankedItem[] Mark(RankedItem[] items, IReadOnlyDictionary<string, string>? slotted) =>
        slotted is not { Count: > 0 } ? items : [.. items.Select(i => slotted.TryGetValue(i.ItemId, out var tag) ? i with { Slot = tag } : i)];
}

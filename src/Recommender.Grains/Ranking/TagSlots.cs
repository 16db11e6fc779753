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
    /// How many rows of a slot's tag a shard ranks for <paramref name="ofTag"/> (the slots of one tag): as many as the
    /// deepest of them, since a place has fewer items above it than its position; when asked to go <paramref name="deep"/>
    /// (under caps, which may pass over the tag's best), at least as many as the scan ranks (<paramref name="scanned"/>),
    /// so that a deeper scan reaches deeper.
    /// </summary>
    public static int Depth(IEnumerable<TagSlot> ofTag, int scanned, bool deep) => Math.Max(ofTag.Max(s => s.Position), deep ? scanned : 0);

    /// <summary>
    /// The shards' answers to a scan with slots (<see cref="ScanFilter.Slots"/>) without the slot candidates they send
    /// last, those candidates by tag (as the slots name it), best first across the shards, and by tag the most rows one
    /// shard sent (a shard that sent as many as <see cref="Depth"/> may have more).
    /// </summary>
    public static (IReadOnlyList<ScoredItem>[] Ranked, Dictionary<string, ScoredItem[]> Candidates, Dictionary<string, int> MostFromOneShard) Split(
        IReadOnlyList<ScoredItem>[] answers)
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
        return (rest, byTag.ToDictionary(t => t.Key, t => SoftmaxRanking.Merge(t.Value, int.MaxValue), StringComparer.OrdinalIgnoreCase),
            byTag.ToDictionary(t => t.Key, t => t.Value.Max(l => l.Count), StringComparer.OrdinalIgnoreCase));
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
    /// placed it, or null. Under <paramref name="caps"/> (what an item counts against from <paramref name="capped"/>,
    /// <paramref name="taken"/> counted in first) every place, a slot's too, takes only an item the caps still let in,
    /// and a slot's item counts against them for the places below it: <paramref name="ranked"/> is then the whole
    /// ranking, not the capped list.
    /// </summary>
    public static (T Item, string? Slot)[] Fill<T>(IEnumerable<T> ranked, IReadOnlyList<TagSlot> slots, Func<string, IEnumerable<T>> candidates,
        Func<T, string> idOf, int count, Func<T, CapMarks>? capped = null, IReadOnlyList<TagCap>? caps = null, IReadOnlyList<CapMarks>? taken = null)
        where T : class
    {
        var list = new List<(T Item, string? Slot)>(Math.Min(count, 1024));
        var listed = new HashSet<string>(StringComparer.Ordinal);
        var bySlot = slots.ToDictionary(s => s.Position);
        var counts = caps is { Count: > 0 } && capped is not null ? new TagCaps.Counts(caps, taken ?? []) : null;
        bool Admits(T item) => counts?.Admits(capped!(item)) != false;
        // Each tag's candidates are asked for once, however many slots it has.
        var byTag = new Dictionary<string, IEnumerable<T>>(StringComparer.OrdinalIgnoreCase);
        using var next = ranked.GetEnumerator();
        while (list.Count < count)
        {
            if (bySlot.TryGetValue(list.Count + 1, out var slot)
                && (byTag.TryGetValue(slot.Tag, out var ofTag) ? ofTag : byTag[slot.Tag] = candidates(slot.Tag)).FirstOrDefault(c => !listed.Contains(idOf(c)) && Admits(c)) is { } best)
            {
                Add(best, slot.Tag);
                continue;
            }
            // A ranked item the caps pass over stays passed over: caps only fill.
            T? item = null;
            while (next.MoveNext())
                if (!listed.Contains(idOf(next.Current)) && Admits(next.Current))
                {
                    item = next.Current;
                    break;
                }
            if (item is null) break;
            Add(item, null);
        }
        return [.. list];

        void Add(T item, string? tag)
        {
            list.Add((item, tag));
            listed.Add(idOf(item));
            counts?.Add(capped!(item));
        }
    }

    /// <summary>
    /// Whether a slot of <paramref name="slots"/> (places among the unpinned ones) within <paramref name="list"/> holds no
    /// item of its tag while its tag may have more candidates than were read (<paramref name="mayHaveMore"/>): under caps,
    /// which may pass over the tag's best, a deeper read may find one they let in.
    /// </summary>
    public static bool Starved<T>(IReadOnlyList<TagSlot> slots, IReadOnlyList<T> list, Func<T, string?> slotOf, Func<string, bool> mayHaveMore) =>
        slots.Any(slot => slot.Position <= list.Count && slotOf(list[slot.Position - 1]) is null && mayHaveMore(slot.Tag));

    /// <summary>The items of a filled list (<see cref="Fill"/>) that slots placed, by id, with the slot's tag.</summary>
    public static Dictionary<string, string> Placed<T>(IEnumerable<(T Item, string? Slot)> filled, Func<T, string> idOf) =>
        filled.Where(f => f.Slot is not null).ToDictionary(f => idOf(f.Item), f => f.Slot!, StringComparer.Ordinal);

    /// <summary>
    /// The slots whose places fall on the page after <paramref name="offset"/> of a list <paramref name="depth"/> deep that
    /// no item of their tag holds, each with the reason: <paramref name="listed"/> is the list's ids down to its end (or
    /// the depth), pins placed, <paramref name="slotted"/> the items slots placed, and <paramref name="candidates"/> a
    /// tag's candidates (the ids the slots were filled from). A place a pin holds is the pin's, not a slot left unfilled;
    /// a place below the list's end has ended; with candidates none of which the list shows above the place, the caps
    /// kept them out (a list without caps takes one). Top place first; null when there are none.
    /// </summary>
    public static UnfilledSlot[]? Unfilled(IReadOnlyList<TagSlot>? slots, IEnumerable<int> pinnedPlaces, int offset, int depth, IReadOnlyList<string> listed,
        IReadOnlyDictionary<string, string>? slotted, Func<string, IEnumerable<string>> candidates)
    {
        if (slots is not { Count: > 0 }) return null;
        var pinned = pinnedPlaces.ToHashSet();
        UnfilledSlot[] unfilled = [.. slots.Where(s => s.Position > offset && s.Position <= depth && !pinned.Contains(s.Position)
                && (s.Position > listed.Count || slotted?.ContainsKey(listed[s.Position - 1]) != true))
            .OrderBy(s => s.Position)
            .Select(s => new UnfilledSlot(s.Tag, s.Position, Shortfall(s)))];
        return unfilled.Length == 0 ? null : unfilled;

        SlotShortfall Shortfall(TagSlot slot)
        {
            if (slot.Position > listed.Count) return SlotShortfall.ListEnded;
            var ofTag = candidates(slot.Tag).ToArray();
            if (ofTag.Length == 0) return SlotShortfall.NoItems;
            var above = listed.Take(slot.Position - 1).ToHashSet(StringComparer.Ordinal);
            return ofTag.All(above.Contains) ? SlotShortfall.ShownAbove : SlotShortfall.Capped;
        }
    }

    /// <summary>
    /// <paramref name="unfilled"/> with each slot whose tag had no candidate told apart by whether the catalogue lists an
    /// item of the tag at all (<paramref name="listsTag"/>, asked once per tag): the list's filters left none
    /// (<see cref="SlotShortfall.NoneAllowed"/>) or there is none (<see cref="SlotShortfall.NoItems"/>).
    /// </summary>
    public static async Task<UnfilledSlot[]?> TellNoItemsApart(UnfilledSlot[]? unfilled, Func<string, Task<bool>> listsTag)
    {
        if (unfilled is null || !unfilled.Any(u => u.Reason == SlotShortfall.NoItems)) return unfilled;
        var tags = unfilled.Where(u => u.Reason == SlotShortfall.NoItems).Select(u => u.Tag).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        var listed = await Task.WhenAll(tags.Select(listsTag));
        var withItems = tags.Where((_, i) => listed[i]).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return [.. unfilled.Select(u => u.Reason == SlotShortfall.NoItems && withItems.Contains(u.Tag) ? u with { Reason = SlotShortfall.NoneAllowed } : u)];
    }

    /// <summary>The ranked items with those a slot placed marked with its tag.</summary>
    public static RankedItem[] Mark(RankedItem[] items, IReadOnlyDictionary<string, string>? slotted) =>
        slotted is not { Count: > 0 } ? items : [.. items.Select(i => slotted.TryGetValue(i.ItemId, out var tag) ? i with { Slot = tag } : i)];
}

using Recommender.Abstractions;

namespace Recommender.Grains.Ranking;

/// <summary>
/// The newest items from the shards' answers (each shard's newest rows, newest first, ties by id): the list GET /latest
/// serves. Under caps the list is the walk down the newest first (<see cref="TagCaps"/>), which passes over items and so
/// may need a deeper read.
/// </summary>
public static class NewestItems
{
    /// <summary>Newest first; among equal times the smaller id first, as a shard orders them.</summary>
    public static readonly Comparer<ScoredItem> Order = Comparer<ScoredItem>.Create((a, b) =>
        a.AvailableFrom != b.AvailableFrom ? Nullable.Compare(b.AvailableFrom, a.AvailableFrom) : string.CompareOrdinal(a.ItemId, b.ItemId));

    /// <summary>Rows to ask each shard for first, for a list of <paramref name="depth"/> items.</summary>
    public static int FirstRead(int depth, bool capped) => capped ? TagCaps.ScanDepth(depth) : depth;

    /// <summary>
    /// The list of at most <paramref name="depth"/> items from the shards' answers to a read of <paramref name="asked"/>
    /// rows each (under caps, each shard's rows that the caps may take: <see cref="ScanFilter.CapSurvivors"/>; with slots,
    /// each slot tag's newest rows after them), with each of <paramref name="slots"/> (places among the unpinned ones)
    /// holding the newest item of its tag not listed above it; and whether it is the list a read of every row gives, or
    /// what to read next. Under <paramref name="caps"/> (<paramref name="taken"/> counted in first) every place takes only
    /// an item they still let in.
    /// </summary>
    public static NewestWalk Walk(IReadOnlyList<ScoredItem>[] answers, int asked, int depth, IReadOnlyList<TagSlot> slots, bool deepSlots,
        IReadOnlyList<TagCap>? caps, IReadOnlyList<CapMarks>? taken)
    {
        var ofSlots = new Dictionary<string, ScoredItem[]>(StringComparer.OrdinalIgnoreCase);
        var mostFromOneShard = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        if (slots.Count > 0)
        {
            (answers, var byTag, mostFromOneShard) = TagSlots.Split(answers);
            foreach (var (tag, candidates) in byTag) ofSlots[tag] = [.. candidates.Order(Order)];
        }
        var capped = caps is { Count: > 0 };
        var (reached, whole) = Reached(answers, asked, capped);
        var filled = TagSlots.Fill(reached, slots, tag => ofSlots.GetValueOrDefault(tag) ?? [], s => s.ItemId, depth, TagCaps.Of, caps, taken);
        // Without caps each shard's newest rows hold the newest of all, and its newest rows of a tag the newest of the tag.
        if (!capped || whole || asked == int.MaxValue) return new NewestWalk(filled, ofSlots, NextRead.None);
        // A shard that sent as many rows of a slot's tag as it was asked for may have more.
        var starved = TagSlots.Starved(slots, filled, f => f.Slot, tag => mostFromOneShard.GetValueOrDefault(tag)
            >= TagSlots.Depth(slots.Where(s => string.Equals(s.Tag, tag, StringComparison.OrdinalIgnoreCase)), asked, deepSlots));
        if (filled.Length == depth && !starved) return new NewestWalk(filled, ofSlots, NextRead.None);
        // A starved slot first asks for its tag as deep as the read already goes; then both go deeper.
        return new NewestWalk(filled, ofSlots, starved && !deepSlots ? NextRead.DeeperSlots : NextRead.Deeper);
    }

    /// <summary>
    /// The shards' rows merged, newest first, as far down as they are surely the newest of all, and whether that is every
    /// row there is. Without caps every row is taken: the first <c>asked</c> are the newest. Under caps the merged rows
    /// are the newest of all as far down as the newest of the last rows of the shards that read all they were asked for
    /// (such a shard may hold older rows it did not read); one that sends only the rows the caps may take marks its last
    /// read row.
    /// </summary>
    private static (ScoredItem[] Reached, bool Whole) Reached(IReadOnlyList<ScoredItem>[] answers, int asked, bool capped)
    {
        var merged = answers.SelectMany(a => a).Order(Order).ToArray();
        if (!capped) return (merged, true);
        var stop = answers.Where(a => a.Count > 0 && (a.Count >= asked || a[^1].ScanEnd)).Select(a => a[^1]).Order(Order).FirstOrDefault();
        return stop is null ? (merged, true) : ([.. merged.TakeWhile(s => Order.Compare(s, stop) <= 0)], false);
    }
}

/// <summary>What a read of the shards gave a list of the newest items (<see cref="NewestItems.Walk"/>).</summary>
/// <param name="Filled">The list, each item with the tag of the slot that placed it (null for none).</param>
/// <param name="SlotCandidates">Each slot tag's newest rows the read gave, newest first.</param>
/// <param name="Next">What to read next for the list a read of every row gives.</param>
public sealed record NewestWalk((ScoredItem Item, string? Slot)[] Filled, IReadOnlyDictionary<string, ScoredItem[]> SlotCandidates, NextRead Next);

/// <summary>What a list of the newest items needs read next.</summary>
public enum NextRead
{
    /// <summary>Nothing: the list is the one a read of every row gives.</summary>
    None,

    /// <summary>The slot tags' rows as deep as the list's rows are read.</summary>
    DeeperSlots,

    /// <summary>Every row deeper (<see cref="TagCaps.Deeper"/>).</summary>
    Deeper,
}

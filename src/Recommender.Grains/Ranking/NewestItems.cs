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
    /// rows each (under caps, each shard's rows that the caps may take: <see cref="ScanFilter.CapSurvivors"/>), and
    /// whether it is the list a read of every row gives; if not, a deeper read is needed.
    /// </summary>
    public static (IReadOnlyList<ScoredItem> List, bool Final) Merge(IReadOnlyList<ScoredItem>[] answers, int asked, IReadOnlyList<TagCap>? caps, int depth)
    {
        var merged = answers.SelectMany(a => a).Order(Order).ToList();
        // Without caps each shard's newest rows hold the newest of all.
        if (caps is not { Count: > 0 }) return (merged.Take(depth).ToList(), true);
        // The merged rows are the newest of all as far down as the newest of the last rows of the shards that read all
        // they were asked for (such a shard may hold older rows it did not read); one that sends only the rows the caps
        // may take marks its last read row.
        var stop = answers.Where(a => a.Count > 0 && (a.Count >= asked || a[^1].ScanEnd)).Select(a => a[^1]).Order(Order).FirstOrDefault();
        var reached = stop is null ? merged : merged.TakeWhile(s => Order.Compare(s, stop) <= 0);
        var list = TagCaps.Take(reached, TagCaps.Of, caps, depth);
        return (list, list.Count == depth || stop is null || asked == int.MaxValue);
    }
}

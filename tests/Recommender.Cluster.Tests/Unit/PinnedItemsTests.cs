using Recommender.Abstractions;
using Recommender.Grains.Ranking;

namespace Recommender.Cluster.Tests.Unit;

public sealed class PinnedItemsTests
{
    [Fact]
    public void Pins_are_set_at_their_places_top_first_the_ranked_items_moving_down_and_the_list_cut_to_its_depth()
    {
        string[] ranked = ["r1", "r2", "r3", "r4", "r5"];
        Assert.Equal(["p1", "r1", "r2", "p4", "r3"], PinnedItems.Place(ranked, [(4, "p4"), (1, "p1")], depth: 5));
        Assert.Equal(["r1", "p2", "p3", "r2", "r3", "r4", "r5"], PinnedItems.Place(ranked, [(3, "p3"), (2, "p2")], depth: 10));
        // A place past the list's end is the end; the ranked list untouched without pins.
        Assert.Equal(["r1", "r2", "p9"], PinnedItems.Place(["r1", "r2"], [(9, "p9")], depth: 10));
        Assert.Equal(["r1", "r2", "p8", "p9"], PinnedItems.Place(["r1", "r2"], [(9, "p9"), (8, "p8")], depth: 10));
        Assert.Equal(ranked, PinnedItems.Place(ranked, [], depth: 5));
        Assert.Equal(["p1"], PinnedItems.Place([], [(1, "p1")], depth: 1));
    }

    [Fact]
    public void Only_the_pins_within_the_depth_are_placed_top_place_first()
    {
        ItemPin[] pins = [new("far", 30), new("near", 2), new("top", 1)];
        Assert.Equal(["top", "near"], PinnedItems.Within(pins, 10).Select(p => p.ItemId));
        Assert.Equal(["top", "near", "far"], PinnedItems.Within(pins, 30).Select(p => p.ItemId));
        Assert.Empty(PinnedItems.Within(null, 10));
    }

    [Fact]
    public void The_shards_pinned_items_are_split_from_their_ranked_rows_and_those_refused_from_those_a_list_may_hold()
    {
        ScoredItem Row(string id, bool pinned = false, PinRefusal? refusal = null) => new(id, id, 1f, Pinned: pinned, Refusal: refusal);
        IReadOnlyList<ScoredItem>[] answers =
            [[Row("r1"), Row("r2"), Row("p1", true), Row("seen", true, PinRefusal.Excluded)], [Row("r3")], [Row("p2", true), Row("p1", true), Row("gone", true, PinRefusal.Unavailable)], []];
        var scan = PinnedItems.Split(answers);
        Assert.Equal([["r1", "r2"], ["r3"], [], []], scan.Ranked.Select(r => r.Select(i => i.ItemId).ToArray()));
        Assert.Same(answers[1], scan.Ranked[1]);
        Assert.Equal(["p1", "p2"], scan.Pinned.Keys.Order());
        Assert.True(scan.Pinned.Values.All(p => p.Pinned));
        Assert.Equal(new Dictionary<string, PinRefusal> { ["seen"] = PinRefusal.Excluded, ["gone"] = PinRefusal.Unavailable }, scan.Refused);
    }

    [Fact]
    public void The_unplaced_pins_of_a_page_are_named_top_place_first_with_the_shards_reason_or_unknown()
    {
        ItemPin[] pins = [new("far", 30), new("placed", 4), new("seen", 3), new("nowhere", 1), new("earlier", 2)];
        var scan = new PinScan([], new Dictionary<string, ScoredItem> { ["placed"] = new("placed", "P", 1f, Pinned: true) },
            new Dictionary<string, PinRefusal> { ["seen"] = PinRefusal.Excluded, ["far"] = PinRefusal.OutsideTags });
        Assert.Equal([new UnplacedPin("nowhere", 1, PinRefusal.Unknown), new UnplacedPin("earlier", 2, PinRefusal.Unknown), new UnplacedPin("seen", 3, PinRefusal.Excluded)],
            PinnedItems.Unplaced(pins, 0, 10, scan)!);
        // A later page names its own; a page without any names none.
        Assert.Equal([new UnplacedPin("seen", 3, PinRefusal.Excluded)], PinnedItems.Unplaced(pins, 2, 10, scan)!);
        Assert.Equal([new UnplacedPin("far", 30, PinRefusal.OutsideTags)], PinnedItems.Unplaced(pins, 20, 30, scan)!);
        Assert.Null(PinnedItems.Unplaced(pins, 4, 10, scan));
        Assert.Null(PinnedItems.Unplaced(null, 0, 10, scan));
        // Without a scan (no shard asked) every pin of the page is unknown.
        Assert.Equal(PinRefusal.Unknown, PinnedItems.Unplaced(pins, 3, 10, null)!.Single().Reason);
        // The list tells apart the exclusions it made the scan's.
        Assert.Equal([new UnplacedPin("nowhere", 1, PinRefusal.Unknown), new UnplacedPin("seen", 3, PinRefusal.Seen), new UnplacedPin("x", 4, PinRefusal.OutsideTags)],
            PinnedItems.Explain([new("nowhere", 1, PinRefusal.Unknown), new("seen", 3, PinRefusal.Excluded), new("x", 4, PinRefusal.OutsideTags)], _ => PinRefusal.Seen)!);
        Assert.Null(PinnedItems.Explain(null, _ => PinRefusal.Seen));
    }

    [Fact]
    public void Only_the_items_a_pin_placed_are_marked()
    {
        RankedItem[] items = [new("a", "A", 0.5, 1f), new("b", "B", 0.5, 1f)];
        var marked = PinnedItems.Mark(items, new HashSet<string> { "b", "gone" });
        Assert.Equal([false, true], marked.Select(i => i.Pinned));
        Assert.Same(items, PinnedItems.Mark(items, new HashSet<string>()));
    }
}

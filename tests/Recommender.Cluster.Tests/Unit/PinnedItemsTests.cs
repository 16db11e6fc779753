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
    public void Only_the_pins_within_the_depth_are_placed_but_every_pinned_item_is_left_out_of_the_ranking()
    {
        ItemPin[] pins = [new("far", 30), new("near", 2), new("top", 1)];
        Assert.Equal(["top", "near"], PinnedItems.Within(pins, 10).Select(p => p.ItemId));
        Assert.Equal(["top", "near", "far"], PinnedItems.Within(pins, 30).Select(p => p.ItemId));
        Assert.Empty(PinnedItems.Within(null, 10));
        Assert.Equal(["seen", "far", "near", "top"], PinnedItems.RankingExcludes(["seen"], pins));
        Assert.Equal(["seen"], PinnedItems.RankingExcludes(["seen"], null));
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

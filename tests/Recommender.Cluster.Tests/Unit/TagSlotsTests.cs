using Recommender.Abstractions;
using Recommender.Grains.Items;
using Recommender.Grains.Ranking;

namespace Recommender.Cluster.Tests.Unit;

public sealed class TagSlotsTests
{
    private static (string Item, string? Slot)[] Fill(string[] ranked, TagSlot[] slots, Dictionary<string, string[]> candidates, int count) =>
        TagSlots.Fill(ranked, slots, tag => candidates.GetValueOrDefault(tag) ?? [], id => id, count);

    [Fact]
    public void A_slot_takes_the_best_candidate_of_its_tag_not_listed_above_it_and_the_ranking_fills_the_rest()
    {
        string[] ranked = ["r1", "s1", "r2", "r3", "s2", "r4"];
        var candidates = new Dictionary<string, string[]> { ["sale"] = ["s1", "s2", "s3"], ["new"] = ["n1"] };
        // s1 ranks second anyway: the slot at 3 takes the next one, s2, which the ranking then passes over.
        Assert.Equal([("r1", null), ("s1", null), ("s2", "sale"), ("r2", null), ("r3", null), ("r4", null)],
            Fill(ranked, [new("sale", 3)], candidates, 6));
        Assert.Equal([("s1", "sale"), ("n1", "new"), ("r1", null), ("r2", null)], Fill(ranked, [new("new", 2), new("sale", 1)], candidates, 4));
        // A tag without a candidate left gives its place to the ranking; a ranking that runs out ends the list.
        Assert.Equal([("n1", "new"), ("r1", null), ("s1", null)], Fill(ranked, [new("new", 1), new("new", 2)], candidates, 3));
        Assert.Equal([("r1", null), ("s1", null), ("s2", "sale"), ("s3", "sale")], Fill(["r1", "s1"], [new("sale", 3), new("sale", 4)], candidates, 6));
        Assert.Equal(ranked.Take(4).Select(r => (r, (string?)null)), Fill(ranked, [new("gone", 2)], candidates, 4));
    }

    [Fact]
    public void Under_caps_a_slot_takes_only_an_item_the_caps_let_in_and_its_item_counts_against_them()
    {
        // Items named s… carry the capped tag.
        static CapMarks Marks(string id) => new(id.StartsWith('s') ? 1 : 0, null);
        (string, string?)[] Capped(string[] ranked, TagSlot[] slots, int cap, int count, CapMarks[]? taken = null) =>
            TagSlots.Fill(ranked, slots, tag => tag == "sale" ? ["s1", "s2", "s3"] : [], id => id, count, Marks, [new TagCap("sale", cap)], taken);
        string[] ranked = ["s1", "r1", "s2", "r2", "r3"];
        // With one sale item allowed and one above, the slot finds none the cap lets in, and the ranking passes s2 over.
        Assert.Equal([("s1", null), ("r1", null), ("r2", null), ("r3", null)], Capped(ranked, [new("sale", 3)], cap: 1, count: 5));
        Assert.Equal([("s1", null), ("r1", null), ("s2", "sale"), ("r2", null), ("r3", null)], Capped(ranked, [new("sale", 3)], cap: 2, count: 5));
        // The slot's item counts against the cap for the places below it.
        Assert.Equal([("s1", "sale"), ("r1", null), ("r2", null)], Capped(["r1", "s1", "s2", "r2"], [new("sale", 1)], cap: 1, count: 3));
        // Items the list holds anyway (pins) are counted in first.
        Assert.Equal([("r1", null), ("r2", null)], Capped(["r1", "s1", "r2"], [new("sale", 1)], cap: 1, count: 3, taken: [new CapMarks(1, null)]));
        // Without caps the same call places as before.
        Assert.Equal([("s1", null), ("r1", null), ("s2", "sale"), ("r2", null)], Fill(ranked, [new("sale", 3)], new() { ["sale"] = ["s1", "s2", "s3"] }, 4));
    }

    [Fact]
    public void A_shard_asked_to_go_deep_sends_a_slots_tag_as_deep_as_it_scans_each_row_marked_against_the_caps()
    {
        var matrix = new ItemMatrix(2, normalise: false);
        for (var i = 0; i < 6; i++) matrix.Upsert($"s{i}", $"S{i}", [6f - i, 0f], ["sale", i % 2 == 0 ? "drama" : "comedy"]);
        matrix.Upsert("r", "R", [10f, 0f], ["drama"]);
        var plain = matrix.TopK([1f, 0f], 4, [], [], [], slots: [new("sale", 2)]);
        Assert.Equal(2, plain.Count(i => i.Slot is not null));
        Assert.All(plain, i => Assert.Equal(0, i.CappedTags));
        // Under caps as deep as its slots, and, asked to go deep, as deep as the scan.
        var capped = matrix.TopK([1f, 0f], 4, [], [], [], caps: [new TagCap("drama", 1)], slots: [new("sale", 2)]);
        Assert.Equal([1, 0], capped.Where(i => i.Slot is not null).Select(i => i.CappedTags));
        var deep = matrix.TopK([1f, 0f], 4, [], [], [], caps: [new TagCap("drama", 1)], slots: [new("sale", 2)], deepSlots: true);
        var slotRows = deep.Where(i => i.Slot is not null).ToArray();
        Assert.Equal(["s0", "s1", "s2", "s3"], slotRows.Select(i => i.ItemId));
        Assert.Equal([1, 0, 1, 0], slotRows.Select(i => i.CappedTags));
        Assert.Equal(2, TagSlots.Depth([new("sale", 2)], 1, deep: true));
        Assert.Equal(4, TagSlots.Depth([new("sale", 2), new("sale", 1)], 4, deep: true));
        Assert.Equal(2, TagSlots.Depth([new("sale", 2)], 4, deep: false));
    }

    [Fact]
    public void A_slot_is_starved_when_its_place_holds_another_item_and_its_tag_may_have_more()
    {
        (string Item, string? Slot)[] list = [("r1", null), ("s1", "sale"), ("r2", null)];
        bool Starved(TagSlot[] slots, params string[] withMore) =>
            TagSlots.Starved(slots, list, f => f.Slot, tag => withMore.Contains(tag));
        Assert.True(Starved([new("new", 3)], "new"));
        Assert.True(Starved([new("sale", 2), new("new", 1)], "new", "sale"));
        // A filled place, a tag read to its end, a place below the list's end: none is.
        Assert.False(Starved([new("sale", 2)], "sale"));
        Assert.False(Starved([new("new", 3)], "sale"));
        Assert.False(Starved([new("new", 4)], "new"));
        Assert.False(Starved([], "new"));
    }

    [Fact]
    public async Task A_slot_without_candidates_is_told_none_allowed_when_the_catalogue_lists_its_tag_and_no_items_when_not()
    {
        var asked = new List<string>();
        Task<bool> Lists(string tag)
        {
            asked.Add(tag);
            return Task.FromResult(tag == "sale");
        }
        UnfilledSlot[] unfilled =
        [
            new("sale", 1, SlotShortfall.NoItems), new("gone", 2, SlotShortfall.NoItems), new("SALE", 3, SlotShortfall.NoItems),
            new("sale", 4, SlotShortfall.Capped), new("new", 5, SlotShortfall.ShownAbove),
        ];
        Assert.Equal([SlotShortfall.NoneAllowed, SlotShortfall.NoItems, SlotShortfall.NoneAllowed, SlotShortfall.Capped, SlotShortfall.ShownAbove],
            (await TagSlots.TellNoItemsApart(unfilled, Lists))!.Select(u => u.Reason));
        // Each tag asked once, and only a tag without candidates.
        Assert.Equal(["sale", "gone"], asked);
        asked.Clear();
        Assert.Null(await TagSlots.TellNoItemsApart(null, Lists));
        Assert.Equal(unfilled[3..], await TagSlots.TellNoItemsApart(unfilled[3..], Lists));
        Assert.Empty(asked);
    }

    [Fact]
    public void An_unfilled_slot_is_named_with_why_and_a_filled_or_pinned_place_or_one_off_the_page_is_not()
    {
        string[] listed = ["s1", "r1", "p", "r2", "s2", "r3"];
        var slotted = new Dictionary<string, string> { ["s2"] = "sale" };
        var candidates = new Dictionary<string, string[]> { ["sale"] = ["s1", "s2"], ["new"] = ["n1"], ["old"] = ["s1"] };
        UnfilledSlot[]? Unfilled(TagSlot[] slots, int offset = 0) =>
            TagSlots.Unfilled(slots, [3], offset, 8, listed, slotted, tag => candidates.GetValueOrDefault(tag) ?? []);
        Assert.Equal([new UnfilledSlot("gone", 2, SlotShortfall.NoItems), new UnfilledSlot("old", 4, SlotShortfall.ShownAbove),
            new UnfilledSlot("new", 6, SlotShortfall.Capped), new UnfilledSlot("sale", 7, SlotShortfall.ListEnded)],
            Unfilled([new("sale", 7), new("new", 6), new("old", 4), new("gone", 2), new("sale", 5), new("new", 3), new("new", 9)])!);
        // The page from place 5 on names only its own places.
        Assert.Equal([6, 7], Unfilled([new("sale", 7), new("new", 6), new("old", 4)], offset: 4)!.Select(u => u.Position));
        Assert.Null(Unfilled([new("sale", 5), new("new", 3)]));
        Assert.Null(TagSlots.Unfilled(null, [], 0, 8, listed, slotted, _ => []));
    }

    [Fact]
    public void Slots_count_their_places_among_those_the_pins_leave_and_give_way_to_a_pin_of_their_place()
    {
        TagSlot[] slots = [new("sale", 5), new("new", 2), new("sale", 3), new("far", 30)];
        ItemPin[] pins = [new("p", 1), new("q", 3)];
        Assert.Equal([new TagSlot("new", 1), new TagSlot("sale", 3)], TagSlots.AmongUnpinned(slots, pins, 10));
        Assert.Equal([new TagSlot("new", 2), new TagSlot("sale", 3), new TagSlot("sale", 5)], TagSlots.AmongUnpinned(slots, [], 10));
        Assert.Empty(TagSlots.AmongUnpinned(null, pins, 10));
    }

    [Fact]
    public void The_shards_slot_candidates_are_split_from_the_rest_and_merged_by_tag_best_first()
    {
        ScoredItem Row(string id, float similarity, string? slot = null, bool pinned = false) => new(id, id, similarity, Pinned: pinned, Slot: slot);
        IReadOnlyList<ScoredItem>[] answers =
        [
            [Row("r1", 5), Row("p", 1, pinned: true), Row("a", 3, "Sale"), Row("b", 1, "sale")],
            [Row("r2", 4)],
            [Row("c", 2, "sale"), Row("n", 9, "new")],
        ];
        var (ranked, candidates, most) = TagSlots.Split(answers);
        Assert.Equal(2, most["SALE"]);
        Assert.Equal(1, most["new"]);
        Assert.Equal([["r1", "p"], ["r2"], []], ranked.Select(r => r.Select(i => i.ItemId).ToArray()));
        Assert.Same(answers[1], ranked[1]);
        Assert.Equal(["a", "c", "b"], candidates["SALE"].Select(c => c.ItemId));
        Assert.Equal(["n"], candidates["new"].Select(c => c.ItemId));
    }

    [Fact]
    public void A_shard_ranks_each_slots_tag_within_the_lists_filters_as_deep_as_its_deepest_slot()
    {
        var matrix = new ItemMatrix(2, normalise: false);
        matrix.Upsert("a", "A", [3f, 0f], ["Sale", "drama"]);
        matrix.Upsert("b", "B", [2f, 1f], ["sale"]);
        matrix.Upsert("c", "C", [1f, 1f], ["sale", "drama", "bright"]);
        matrix.Upsert("d", "D", [0f, 4f], ["new"]);
        matrix.Upsert("e", "E", [0f, 1f], ["sale"]);
        var answer = matrix.TopK([1f, 2f], 2, [], [], [], slots: [new("sale", 1), new("SALE", 2), new("new", 1)]);
        Assert.Equal(["d", "b"], answer.Where(i => i.Slot is null).Select(i => i.ItemId));
        Assert.Equal(["b", "a"], answer.Where(i => i.Slot == "sale").Select(i => i.ItemId));
        Assert.Equal(["d"], answer.Where(i => i.Slot == "new").Select(i => i.ItemId));
        // Exclusions, tag filters and pins hold for them; the list's boosts rank them.
        var filtered = matrix.TopK([1f, 2f], 2, ["b"], ["drama"], [], pinned: ["a"], slots: [new("sale", 3)]);
        Assert.Equal(["c"], filtered.Where(i => i.Slot is not null).Select(i => i.ItemId));
        var boosted = matrix.TopK([1f, 2f], 2, [], [], [], boosts: [("bright", 5f)], slots: [new("sale", 1)]);
        Assert.Equal(("c", 5f), boosted.Where(i => i.Slot is not null).Select(i => (i.ItemId, i.Boost)).Single());
        Assert.DoesNotContain(matrix.TopK([1f, 2f], 2, [], [], [], slots: [new("no-such-tag", 2)]), i => i.Slot is not null);
    }
}

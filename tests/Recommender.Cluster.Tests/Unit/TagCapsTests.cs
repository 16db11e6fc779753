using Recommender.Abstractions;
using Recommender.Grains.Items;
using Recommender.Grains.Ranking;

namespace Recommender.Cluster.Tests.Unit;

public sealed class TagCapsTests
{
    [Fact]
    public void An_item_is_passed_over_once_any_of_its_capped_tags_is_full()
    {
        TagCap[] caps = [new("sponsored", 1), new("acme", 2)];
        // Bit 0: sponsored, bit 1: acme.
        (string Id, int Mask)[] ranked = [("s1", 1), ("a1", 2), ("s2", 1), ("sa", 3), ("a2", 2), ("x1", 0), ("a3", 2), ("x2", 0)];
        Assert.Equal(["s1", "a1", "a2", "x1", "x2"], TagCaps.Take(ranked, r => new CapMarks(r.Mask, null), caps, 10).Select(r => r.Id));
        Assert.Equal(["s1", "a1", "a2"], TagCaps.Take(ranked, r => new CapMarks(r.Mask, null), caps, 3).Select(r => r.Id));
        Assert.Empty(TagCaps.Take(ranked, r => new CapMarks(r.Mask, null), caps, 0));
    }

    [Fact]
    public void The_capped_list_of_a_prefix_that_fills_is_the_capped_list_of_the_whole_ranking()
    {
        var random = new Random(3);
        TagCap[] caps = [new("a", 3), new("b", 1), new("c", 5)];
        for (var trial = 0; trial < 200; trial++)
        {
            var ranked = Enumerable.Range(0, 200).Select(i => (Id: i, Mask: random.Next(8) & random.Next(8))).ToArray();
            var depth = random.Next(1, 40);
            var whole = TagCaps.Take(ranked, r => new CapMarks(r.Mask, null), caps, depth);
            for (var prefix = depth; prefix <= ranked.Length; prefix += 7)
            {
                var fromPrefix = TagCaps.Take(ranked.Take(prefix), r => new CapMarks(r.Mask, null), caps, depth);
                // What a prefix gives is the whole ranking's list as far as it reaches: all of it once it fills.
                Assert.Equal(whole.Take(fromPrefix.Count), fromPrefix);
                if (fromPrefix.Count == depth) Assert.Equal(whole, fromPrefix);
            }
        }
    }

    [Fact]
    public void Marks_match_tags_ignoring_case_and_a_shard_scan_marks_its_rows()
    {
        TagCap[] caps = [new("Drama", 1), new("sale", 2)];
        Assert.Equal(0b11, TagCaps.Marks(caps, ["SALE", "drama", "other"]).Tags);
        Assert.Equal(0b10, TagCaps.Marks(caps, ["Sale"]).Tags);
        Assert.Null(TagCaps.Marks(caps, ["Sale"]).Groups);
        Assert.Equal(default, TagCaps.Marks(caps, null));
        Assert.Equal(default, TagCaps.Marks(null, ["drama"]));

        var matrix = new ItemMatrix(2, normalise: false);
        matrix.Upsert("a", "A", [1f, 0f], ["DRAMA"]);
        matrix.Upsert("b", "B", [0.9f, 0f], ["sale", "drama", "brand:Acme"]);
        matrix.Upsert("c", "C", [0.8f, 0f], ["kids", "BRAND:zeta", "brand:acme"]);
        var top = matrix.TopK([1f, 0f], 3, [], [], [], caps: [new("drama", 1), new("Sale", 1), new("none-such", 1)]);
        Assert.Equal([("a", 0b01), ("b", 0b11), ("c", 0)], top.Select(t => (t.ItemId, t.CappedTags)));
        Assert.All(top, t => Assert.Null(t.CappedGroups));
        Assert.All(matrix.TopK([1f, 0f], 3, []), t => Assert.Equal((0, null), (t.CappedTags, t.CappedGroups)));
        // A cap of each tag under a prefix has no bit: the scan gives the tags it covers, as the item carries them.
        var perBrand = matrix.TopK([1f, 0f], 3, [], [], [], caps: [new("brand:", 2, Each: true), new("kids", 1)]);
        Assert.Equal([(0, (string[]?)null), (0, ["brand:Acme"]), (0b10, ["BRAND:zeta", "brand:acme"])],
            perBrand.Select(t => (t.CappedTags, t.CappedGroups)));
    }

    [Fact]
    public void A_cap_of_each_tag_under_a_prefix_counts_every_such_tag_apart()
    {
        TagCap[] caps = [new("brand:", 2, Each: true), new("sponsored", 1)];
        (string Id, string[] Tags)[] ranked =
        [
            ("a1", ["brand:acme"]), ("a2", ["Brand:ACME", "sponsored"]), ("z1", ["brand:zeta"]), ("a3", ["brand:acme"]),
            ("s1", ["sponsored"]), ("az", ["brand:acme", "brand:zeta"]), ("z2", ["brand:zeta"]), ("x1", ["other"]), ("z3", ["brand:zeta"]),
            ("q1", ["brand:q"]),
        ];
        // a3 is a third acme, s1 a second sponsored item, az a third acme (it counts against both of its brands), z3 a third zeta.
        Assert.Equal(["a1", "a2", "z1", "z2", "x1", "q1"], TagCaps.Take(ranked, r => TagCaps.Marks(caps, r.Tags), caps, 10).Select(r => r.Id));
        Assert.Equal(["a1", "a2", "z1"], TagCaps.Take(ranked, r => TagCaps.Marks(caps, r.Tags), caps, 3).Select(r => r.Id));

        // The empty prefix (capEach=*) covers every tag; tags are counted once per item, ignoring case.
        TagCap[] everyTag = [new("", 1, Each: true)];
        Assert.Equal(["brand:acme"], TagCaps.Marks(everyTag, ["brand:acme", "BRAND:ACME"]).Groups ?? []);
        Assert.Equal(["a1", "z1", "s1", "x1", "q1"], TagCaps.Take(ranked, r => TagCaps.Marks(everyTag, r.Tags), everyTag, 10).Select(r => r.Id));
        // A prefix covers only the tags that start with it.
        TagCap[] acmeOnly = [new("brand:a", 1, Each: true)];
        Assert.Equal(["a1", "z1", "s1", "z2", "x1", "z3", "q1"], TagCaps.Take(ranked, r => TagCaps.Marks(acmeOnly, r.Tags), acmeOnly, 10).Select(r => r.Id));
    }

    [Fact]
    public void The_capped_list_of_a_prefix_that_fills_is_the_same_with_caps_of_each_tag()
    {
        var random = new Random(5);
        TagCap[] caps = [new("g", 2, Each: true), new("x", 3), new("", 4, Each: true)];
        string[] tags = ["g1", "g2", "g3", "x", "h1", "h2"];
        for (var trial = 0; trial < 200; trial++)
        {
            var ranked = Enumerable.Range(0, 150)
                .Select(i => (Id: i, Marks: TagCaps.Marks(caps, [.. tags.Where(_ => random.Next(4) == 0)]))).ToArray();
            var depth = random.Next(1, 25);
            var whole = TagCaps.Take(ranked, r => r.Marks, caps, depth);
            for (var prefix = depth; prefix <= ranked.Length; prefix += 7)
            {
                var fromPrefix = TagCaps.Take(ranked.Take(prefix), r => r.Marks, caps, depth);
                Assert.Equal(whole.Take(fromPrefix.Count), fromPrefix);
                if (fromPrefix.Count == depth) Assert.Equal(whole, fromPrefix);
            }
            // No tag under "g" more than twice, none at all more than four times, "x" at most three times.
            var counts = whole.SelectMany(r => (r.Marks.Groups ?? []).Select(g => g.ToLowerInvariant())).CountBy(g => g).ToDictionary();
            Assert.All(counts, c => Assert.InRange(c.Value, 1, c.Key.StartsWith('g') ? 2 : 4));
            Assert.InRange(whole.Count(r => (r.Marks.Tags & 0b10) != 0), 0, 3);
        }
    }

    [Fact]
    public void The_walk_over_the_shards_survivors_takes_what_it_takes_over_every_item()
    {
        var random = new Random(11);
        // g1 counts against two caps, so an item carrying it never closes one; overlapping caps must not drop too much.
        TagCap[] caps = [new("g", 1, Each: true), new("x", 2), new("h", 2, Each: true), new("g1", 2)];
        string[] tags = ["g1", "g2", "g3", "x", "h1", "h2"];
        var dropped = 0;
        for (var trial = 0; trial < 300; trial++)
        {
            var ranked = Enumerable.Range(0, 120)
                .Select(i => (Id: i, Shard: random.Next(4), Marks: TagCaps.Marks(caps, [.. tags.Where(_ => random.Next(3) == 0)]))).ToArray();
            var depth = random.Next(1, 30);
            var whole = TagCaps.Take(ranked, r => r.Marks, caps, depth);
            // Each shard keeps the items of its own part of the ranking that survive; the merge keeps the ranking's order.
            var survivors = ranked.GroupBy(r => r.Shard)
                .SelectMany(shard => TagCaps.Survivors(shard, r => r.Marks, caps, int.MaxValue))
                .OrderBy(r => r.Id).ToArray();
            dropped += ranked.Length - survivors.Length;
            Assert.Equal(whole, TagCaps.Take(survivors, r => r.Marks, caps, depth));
            // A shard's first n survivors are the first n of all its survivors.
            var shard0 = ranked.Where(r => r.Shard == 0).ToArray();
            Assert.Equal(TagCaps.Survivors(shard0, r => r.Marks, caps, int.MaxValue).Take(5), TagCaps.Survivors(shard0, r => r.Marks, caps, 5));
        }
        // The caps close early here, so many items never leave their shard.
        Assert.True(dropped > 300 * 120 / 4, $"{dropped} of {300 * 120} items dropped");
    }

    [Fact]
    public void Shards_that_send_only_survivors_give_the_list_a_walk_over_the_whole_catalogue_gives()
    {
        var random = new Random(17);
        string[] tags = ["a", "b", "c", "brand:x", "brand:y", "brand:z"];
        for (var trial = 0; trial < 60; trial++)
        {
            // Shards of unlike sizes and tags, so that their scans stop at unlike depths of the whole ranking.
            var shards = Enumerable.Range(0, 4).Select(_ => new ItemMatrix(4, normalise: false)).ToArray();
            var whole = new ItemMatrix(4, normalise: false);
            for (var i = 0; i < 300; i++)
            {
                var shard = random.Next(10) switch { < 5 => 0, < 8 => 1, < 9 => 2, _ => 3 };
                string[] carried = [.. tags.Where(t => random.Next(shard == 0 && t == "a" ? 2 : 5) == 0)];
                float[] vector = [.. Enumerable.Range(0, 4).Select(_ => (float)random.NextDouble())];
                shards[shard].Upsert($"i{i}", "", vector, carried);
                whole.Upsert($"i{i}", "", vector, carried);
            }
            float[] query = [.. Enumerable.Range(0, 4).Select(_ => (float)random.NextDouble())];
            TagCap[] caps = random.Next(3) switch
            {
                0 => [new("a", random.Next(1, 4)), new("b", random.Next(1, 4))],
                1 => [new("brand:", random.Next(1, 3), Each: true), new("c", 2)],
                _ => [new("", random.Next(1, 3), Each: true)],
            };
            var depth = random.Next(1, 30);
            var expected = TagCaps.Take(whole.TopK(query, int.MaxValue, [], [], [], caps: caps), TagCaps.Of, caps, depth).Select(c => c.ItemId);
            for (var asked = TagCaps.ScanDepth(depth); ; asked = TagCaps.Deeper(asked))
            {
                // Shard 3 sends every row it ranked, as a silo of the release before does during a rolling update.
                var answers = shards.Select((s, i) => (IReadOnlyList<ScoredItem>)s.TopK(query, asked, [], [], [], caps: caps, capSurvivors: i != 3)).ToArray();
                var (list, final) = TagCaps.FromShards(answers, asked, caps, depth);
                // Short of final, what the list has so far is the whole list's beginning.
                Assert.Equal(expected.Take(list.Length), list.Select(c => c.ItemId));
                if (!final) continue;
                Assert.Equal(expected, list.Select(c => c.ItemId));
                break;
            }
        }
    }

    [Fact]
    public void An_item_is_dropped_only_behind_items_that_count_against_its_full_cap_alone()
    {
        TagCap[] caps = [new("drama", 1), new("comedy", 1)];
        // "dc" counts against both caps: another shard's comedy item above it may have the walk pass over it, and then
        // take d1, so d1 stays; d1 counts against drama alone, so once it is in, drama is full and d2 goes.
        (string Id, int Mask)[] ranked = [("dc", 3), ("d1", 1), ("c1", 2), ("d2", 1), ("x", 0), ("c2", 2)];
        Assert.Equal(["dc", "d1", "c1", "x"], TagCaps.Survivors(ranked, r => new CapMarks(r.Mask, null), caps, 10).Select(r => r.Id));
        Assert.Equal(["dc", "d1"], TagCaps.Survivors(ranked, r => new CapMarks(r.Mask, null), caps, 2).Select(r => r.Id));
        Assert.Equal(["dc", "x"], TagCaps.Take(ranked, r => new CapMarks(r.Mask, null), caps, 10).Select(r => r.Id));

        // A shard's scan for a walked list sends the rows the caps may take, and the last row it ranked marked as its end.
        var matrix = new ItemMatrix(2, normalise: false);
        for (var i = 1; i <= 6; i++) matrix.Upsert($"d{i}", $"D{i}", [1f - i / 100f, 0f], ["Drama"]);
        matrix.Upsert("x", "X", [0.5f, 0f], ["other"]);
        matrix.Upsert("y", "Y", [0.4f, 0f], []);
        TagCap[] drama = [new("drama", 1)];
        static (string, bool)[] Sent(ScoredItem[] items) => [.. items.Select(t => (t.ItemId, t.ScanEnd))];
        Assert.Equal([("d1", false), ("d3", true)], Sent(matrix.TopK([1f, 0f], 3, [], [], [], caps: drama, capSurvivors: true)));
        Assert.Equal([("d1", false), ("x", false), ("y", true)], Sent(matrix.TopK([1f, 0f], 8, [], [], [], caps: drama, capSurvivors: true)));
        // Fewer rows than asked: nothing is marked, the shard has no more.
        Assert.Equal([("d1", false), ("x", false), ("y", false)], Sent(matrix.TopK([1f, 0f], 9, [], [], [], caps: drama, capSurvivors: true)));
        Assert.Equal([("d1", false), ("d2", false), ("d3", false)], Sent(matrix.TopK([1f, 0f], 3, [], [], [], caps: drama)));
        Assert.Equal(["d1", "d2", "d3"], matrix.TopK([1f, 0f], 3, [], [], [], capSurvivors: true).Select(t => t.ItemId));
    }

    [Fact]
    public void Scans_for_a_capped_list_start_at_twice_its_depth_and_grow_fourfold_past_what_there_is()
    {
        Assert.Equal((40, 160), (TagCaps.ScanDepth(20), TagCaps.Deeper(40)));
        Assert.Equal(int.MaxValue, TagCaps.Deeper(int.MaxValue / 2));
        // A deeper scan may ask for more than a shard holds, or the popular list has: it gets what there is.
        float[] matrix = [1f, 0f, 0.5f, 0f, 0.25f, 0f];
        Assert.Equal([0, 1, 2], TopKScanner.Scan(matrix, 2, 3, [1f, 0f], int.MaxValue).Select(r => r.Row));
        PopularItem[] popular = [new("a", "A", 9, ["sale"]), new("b", "B", 5), new("c", "C", 4, ["sale"])];
        Assert.Equal(["a", "c", "b"], SoftmaxRanking.Boosted(popular, new PopularBoosts([new TagBoost("sale", 2)]), int.MaxValue).Select(p => p.ItemId));
    }
}

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
        Assert.Equal(["s1", "a1", "a2", "x1", "x2"], TagCaps.Take(ranked, r => r.Mask, caps, 10).Select(r => r.Id));
        Assert.Equal(["s1", "a1", "a2"], TagCaps.Take(ranked, r => r.Mask, caps, 3).Select(r => r.Id));
        Assert.Empty(TagCaps.Take(ranked, r => r.Mask, caps, 0));
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
            var whole = TagCaps.Take(ranked, r => r.Mask, caps, depth);
            for (var prefix = depth; prefix <= ranked.Length; prefix += 7)
            {
                var fromPrefix = TagCaps.Take(ranked.Take(prefix), r => r.Mask, caps, depth);
                // What a prefix gives is the whole ranking's list as far as it reaches: all of it once it fills.
                Assert.Equal(whole.Take(fromPrefix.Count), fromPrefix);
                if (fromPrefix.Count == depth) Assert.Equal(whole, fromPrefix);
            }
        }
    }

    [Fact]
    public void Masks_match_tags_ignoring_case_and_a_shard_scan_marks_its_rows()
    {
        TagCap[] caps = [new("Drama", 1), new("sale", 2)];
        Assert.Equal(0b11, TagCaps.Mask(caps, ["SALE", "drama", "other"]));
        Assert.Equal(0b10, TagCaps.Mask(caps, ["Sale"]));
        Assert.Equal(0, TagCaps.Mask(caps, null));
        Assert.Equal(0, TagCaps.Mask(null, ["drama"]));

        var matrix = new ItemMatrix(2, normalise: false);
        matrix.Upsert("a", "A", [1f, 0f], ["DRAMA"]);
        matrix.Upsert("b", "B", [0.9f, 0f], ["sale", "drama"]);
        matrix.Upsert("c", "C", [0.8f, 0f], ["kids"]);
        var top = matrix.TopK([1f, 0f], 3, [], [], [], capTags: ["drama", "Sale", "none-such"]);
        Assert.Equal([("a", 0b01), ("b", 0b11), ("c", 0)], top.Select(t => (t.ItemId, t.CappedTags)));
        Assert.All(matrix.TopK([1f, 0f], 3, []), t => Assert.Equal(0, t.CappedTags));
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
        Assert.Equal(["a", "c", "b"], SoftmaxRanking.Boosted(popular, [new TagBoost("sale", 2)], int.MaxValue).Select(p => p.ItemId));
    }
}

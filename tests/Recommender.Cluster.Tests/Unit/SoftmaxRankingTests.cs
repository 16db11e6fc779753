using Recommender.Abstractions;
using Recommender.Grains.Ranking;

namespace Recommender.Cluster.Tests.Unit;

public sealed class SoftmaxRankingTests
{
    [Fact]
    public void Softmax_sums_to_one_keeps_order_and_matches_the_formula()
    {
        float[] s = [0.9f, 0.5f, 0.1f];
        var p = SoftmaxRanking.Softmax(s, 0.1);
        Assert.Equal(1.0, p.Sum(), 1e-12);
        Assert.True(p[0] > p[1] && p[1] > p[2]);
        var denominator = s.Sum(x => Math.Exp(x / 0.1));
        for (var i = 0; i < s.Length; i++) Assert.Equal(Math.Exp(s[i] / 0.1) / denominator, p[i], 1e-12);
    }

    [Fact]
    public void Softmax_is_stable_for_large_values_and_flat_for_equal_ones()
    {
        var p = SoftmaxRanking.Softmax([1000f, 999f], 1.0);
        Assert.All(p, x => Assert.True(double.IsFinite(x)));
        Assert.Equal(1 / (1 + Math.Exp(-1)), p[0], 1e-12);
        Assert.All(SoftmaxRanking.Softmax([3f, 3f, 3f, 3f], 0.5), x => Assert.Equal(0.25, x, 1e-12));
        Assert.Empty(SoftmaxRanking.Softmax([], 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SoftmaxRanking.Softmax([1f], 0));
    }

    [Fact]
    public void Merge_takes_the_global_top_k_across_shards()
    {
        ScoredItem[] a = [new("a1", "A1", 0.9f), new("a2", "A2", 0.4f)];
        ScoredItem[] b = [new("b1", "B1", 0.8f), new("b2", "B2", 0.7f), new("b3", "B3", 0.1f)];
        ScoredItem[] c = [];
        var merged = SoftmaxRanking.Merge([a, b, c], 3);
        Assert.Equal(["a1", "b1", "b2"], merged.Select(m => m.ItemId));
    }

    [Fact]
    public void Merge_gives_the_order_of_a_sort_of_all_candidates_ties_boosts_and_repeats_included()
    {
        var random = new Random(7);
        for (var trial = 0; trial < 300; trial++)
        {
            // Few distinct scores, so that ties are common; an item may sit in two lists (a move between shards).
            var lists = Enumerable.Range(0, random.Next(1, 6)).Select(_ => Enumerable.Range(0, random.Next(0, 30))
                    .Select(_ => new ScoredItem($"i{random.Next(60)}", "", random.Next(8) / 4f, Boost: random.Next(3) == 0 ? 0.25f : 0))
                    .DistinctBy(c => c.ItemId)
                    .OrderByDescending(c => c.Relevance).ThenBy(c => c.ItemId, StringComparer.Ordinal).ToArray())
                .ToArray();
            var k = random.Next(0, 80);
            var seen = new HashSet<string>();
            var sorted = lists.SelectMany(l => l).OrderByDescending(c => c.Relevance).ThenBy(c => c.ItemId, StringComparer.Ordinal)
                .Where(c => seen.Add(c.ItemId)).Take(k).ToArray();
            Assert.Equal(sorted, SoftmaxRanking.Merge(lists, k));
            // Lists out of order are ranked all the same.
            var shuffled = lists.Select(l => l.OrderBy(_ => random.Next()).ToArray()).ToArray();
            Assert.Equal(sorted.Select(c => (c.ItemId, c.Relevance)), SoftmaxRanking.Merge(shuffled, k).Select(c => (c.ItemId, c.Relevance)));
        }
    }

    [Fact]
    public void Popularity_scores_are_each_items_share_of_the_counts()
    {
        PopularItem[] popular = [new("x", "X", 60), new("y", "Y", 30), new("z", "Z", 10)];
        var ranked = SoftmaxRanking.RankPopular(popular, 10, new HashSet<string> { "y" });
        Assert.Equal(["x", "z"], ranked.Select(r => r.ItemId));
        Assert.Equal(60.0 / 70, ranked[0].Score, 1e-6);
        Assert.Equal(10.0 / 70, ranked[1].Score, 1e-6);
    }

    [Fact]
    public void A_page_of_the_popularity_list_is_the_tail_of_the_list_ranked_down_to_its_end()
    {
        PopularItem[] popular = [new("w", "W", 100), new("x", "X", 60), new("y", "Y", 30), new("z", "Z", 10)];
        var whole = SoftmaxRanking.RankPopular(popular, 3, new HashSet<string> { "x" });
        var page = SoftmaxRanking.RankPopular(popular, 2, new HashSet<string> { "x" }, offset: 1);
        Assert.Equal(["y", "z"], page.Select(r => r.ItemId));
        Assert.Equal(whole[1..], page);
        Assert.Equal(30.0 / 140, page[0].Score, 1e-6);
        Assert.Empty(SoftmaxRanking.RankPopular(popular, 2, null, offset: 4));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 2)]
    [InlineData(50, 3)]
    [InlineData(400, 4)]
    [InlineData(1000, 5)]
    public void The_boosted_popular_list_is_the_counts_times_the_factors_in_a_stable_order(int count, int seed)
    {
        // Many equal counts (ties keep the order given) and tags raised, held back and both; the items come by count.
        var random = new Random(seed);
        string[] tags = ["sale", "new", "old", "kids"];
        var popular = Enumerable.Range(0, 800)
            .Select(i => new PopularItem($"i{i}", $"I{i}", random.Next(1, 60) * random.Next(1, 4), [.. tags.Where(_ => random.Next(3) == 0)]))
            .OrderByDescending(p => p.Count)
            .ToArray();
        TagBoost[] boosts = [new("SALE", 3), new("new", 1.5), new("old", 0.25)];
        double Factor(PopularItem p) => boosts.Where(b => p.Tags!.Contains(b.Tag, StringComparer.OrdinalIgnoreCase)).Aggregate(1.0, (f, b) => f * b.Factor);

        var boosted = SoftmaxRanking.Boosted(popular, new PopularBoosts(boosts), count);

        var expected = popular.OrderByDescending(p => SoftmaxRanking.LogCount(p) + Math.Log(Factor(p))).Take(count).ToArray();
        Assert.Equal(expected.Select(p => p.ItemId), boosted.Select(p => p.ItemId));
        Assert.NotEqual(popular.Take(count).Select(p => p.ItemId), boosted.Select(p => p.ItemId));
        // The scores are each listed item's share of the listed counts times their factors.
        var ranked = SoftmaxRanking.RankPopular(boosted, count, null, boosts: new PopularBoosts(boosts));
        var total = boosted.Sum(p => Math.Max(1, p.Count) * Factor(p));
        for (var i = 0; i < ranked.Length; i++)
        {
            Assert.Equal(Math.Max(1, boosted[i].Count) * Factor(boosted[i]) / total, ranked[i].Score, 1e-6);
            Assert.Equal(SoftmaxRanking.LogCount(boosted[i]), ranked[i].Similarity);
        }
    }
}

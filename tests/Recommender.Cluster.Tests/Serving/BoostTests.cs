using System.Net;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;
using static Recommender.Cluster.Tests.Serving.SmallCatalogueTags;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// boost=TAG:FACTOR on every list: items carrying the tag weigh factor times as much, before the list is cut and its
/// scores normalised. The small catalogue tags even movies Drama and Romance, odd ones Action and Thriller.
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class BoostTests(ServingCluster cluster)
{
    /// <summary>The softmax temperature behind a list: its scores are exp(similarity / T) over their sum.</summary>
    private static double Temperature(IReadOnlyList<RecommendedItemReply> list)
    {
        var (top, bottom) = (list[0], list[^1]);
        return (top.Similarity - bottom.Similarity) / Math.Log(top.Score / bottom.Score);
    }

    /// <summary>
    /// <paramref name="boosted"/> is <paramref name="plain"/> (the same list, deep enough to hold every candidate) ranked
    /// again with <paramref name="raise"/> added to the relevance of the items <paramref name="boostedItem"/> picks,
    /// and cut to its length: each item keeps its similarity, the order follows the boosted relevance, nothing left
    /// out ranks above it, and a boosted item's score against another's is the factor times what it was.
    /// </summary>
    private static void AssertBoosted(IReadOnlyList<RecommendedItemReply> plain, IReadOnlyList<RecommendedItemReply> boosted,
        Func<RecommendedItemReply, bool> boostedItem, double factor, double temperature)
    {
        const double tolerance = 1e-4;
        var raise = temperature * Math.Log(factor);
        var own = plain.ToDictionary(i => i.Id);
        double Relevance(RecommendedItemReply item) => item.Similarity + (boostedItem(item) ? raise : 0);

        Assert.NotEmpty(boosted);
        Assert.All(plain, i => Assert.Null(i.Boost));
        foreach (var item in boosted)
        {
            Assert.Equal(own[item.Id].Similarity, item.Similarity);
            // Each item says the factor its weight was multiplied by, so that a page may label promoted items.
            Assert.Equal(boostedItem(item) ? factor : null, item.Boost);
        }
        for (var i = 1; i < boosted.Count; i++)
            Assert.True(Relevance(boosted[i - 1]) >= Relevance(boosted[i]) - tolerance, $"{boosted[i - 1].Id} ranks above {boosted[i].Id}");
        var listed = boosted.Select(i => i.Id).ToHashSet();
        var lowest = boosted.Min(Relevance);
        Assert.All(plain.Where(i => !listed.Contains(i.Id)), i => Assert.True(Relevance(i) <= lowest + tolerance, $"{i.Id} was left out"));

        // Asked of whole lists (k=1000), which hold both kinds.
        var up = Assert.Single(boosted.Where(boostedItem).Take(1));
        var other = Assert.Single(boosted.Where(i => Movie(i) && !boostedItem(i)).Take(1));
        var expected = factor * Math.Exp((up.Similarity - other.Similarity) / temperature);
        Assert.Equal(1.0, up.Score / other.Score / expected, 3);
    }

    private async Task<List<RecommendedItemReply>> User(string query) =>
        (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?{query}")).Items;

    [Fact]
    public async Task A_boost_raises_a_users_tagged_items_by_its_factor_and_a_factor_below_one_holds_them_back()
    {
        var all = await User("k=1000");
        var temperature = Temperature(all);
        var raised = await User("k=1000&boost=drama:3");
        AssertBoosted(all, raised, Even, 3, temperature);
        var top = await User("k=20&boost=drama:3");
        Assert.Equal(raised.Take(20).Select(i => i.Id), top.Select(i => i.Id));
        Assert.True(top.Count(Even) > all.Take(20).Count(Even), "tripling dramas lists no more of them");

        var held = await User("k=1000&boost=Action:0.2");
        AssertBoosted(all, held, Odd, 0.2, temperature);
        Assert.True(held.Take(20).Count(Odd) < all.Take(20).Count(Odd), "a fifth of the weight lists no fewer action movies");

        // Two tags of one item take both factors; a filter applies first; pages join up.
        AssertBoosted(all, await User("k=1000&boost=drama:2&boost=ROMANCE:1.5"), Even, 3, temperature);
        var thrillers = await User("k=10&tag=Thriller&boost=action:4");
        Assert.All(thrillers, i => Assert.True(Odd(i), $"{i.Id} is not a thriller"));
        Assert.Equal(all.Where(Odd).Take(10).Select(i => i.Id), thrillers.Select(i => i.Id));
        var page = await User("k=10&offset=10&boost=drama:3");
        Assert.Equal(top.Skip(10).Select(i => i.Id), page.Select(i => i.Id));
        Assert.Equal(all.Take(10).Select(i => i.Id), (await User("k=10&boost=no-such-tag:50")).Select(i => i.Id));
    }

    [Fact]
    public async Task Sessions_and_similar_items_take_the_same_boosts()
    {
        var items = (await cluster.GetJsonAsync<HistoryReply>("/users/5/history")).Events.Select(e => e.ItemId).Distinct().Take(6).ToArray();
        Task<List<RecommendedItemReply>> Session(string query) => ServingChecks.SessionList(cluster.Http, items, query);
        var session = await Session("k=1000");
        var boostedSession = await Session("k=1000&boost=thriller:5");
        AssertBoosted(session, boostedSession, Odd, 5, Temperature(session));
        Assert.Equal(boostedSession.Take(15).Select(i => i.Id), (await Session("k=15&boost=thriller:5")).Select(i => i.Id));

        var similar = (await cluster.GetJsonAsync<SimilarReply>("/items/2/similar?k=1000")).Items;
        var boosted = (await cluster.GetJsonAsync<SimilarReply>("/items/2/similar?k=1000&boost=Thriller:5")).Items;
        AssertBoosted(similar, boosted, Odd, 5, Temperature(similar));
        var cut = (await cluster.GetJsonAsync<SimilarReply>("/items/2/similar?k=15&boost=Thriller:5")).Items;
        Assert.Equal(boosted.Take(15).Select(i => i.Id), cut.Select(i => i.Id));
        Assert.True(cut.Count(Odd) > similar.Take(15).Count(Odd), "the boost lists no more thrillers like item 2");
    }

    [Fact]
    public async Task The_popular_list_multiplies_a_boosted_items_count()
    {
        // Compared while the live list stands still between the first read and the last.
        await ServingChecks.WhileTheLiveListSettles(async () =>
        {
            var before = (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000")).Items;
            var boosted = (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000&boost=thriller:3")).Items;
            var cut = (await cluster.GetJsonAsync<PopularReply>("/popular?k=20&boost=thriller:3")).Items;
            var cold = (await cluster.GetJsonAsync<RecommendationsReply>($"/users/cold-{Guid.NewGuid():N}/recommendations?k=20&boost=THRILLER:3")).Items;
            var after = (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000")).Items;
            Assert.Equal(before, after);
            // The counts (the similarity is the log count) times the factor, in a stable order.
            var expected = after.Where(Movie).OrderByDescending(i => i.Similarity + (Odd(i) ? Math.Log(3) : 0)).Select(i => i.Id).ToArray();
            Assert.Equal(expected.Take(boosted.Count(Movie)), boosted.Where(Movie).Select(i => i.Id));
            Assert.Equal(cut, cold);
            Assert.Equal(boosted.Take(20).Select(i => i.Id), cut.Select(i => i.Id));
            AssertBoosted(after, boosted, Odd, 3, temperature: 1);
        });
    }

    [Theory]
    [InlineData("/users/5/recommendations")]
    [InlineData("/items/2/similar")]
    [InlineData("/popular")]
    public async Task A_bad_boost_is_a_problem_naming_the_parameter(string path)
    {
        string[] bad =
        [
            "boost=drama", "boost=drama:0", "boost=drama:101", "boost=drama:abc", "boost=drama:NaN", "boost=:2", "boost=%20:2",
            "boost=drama:2&boost=DRAMA:3", string.Join("&", Enumerable.Range(0, 21).Select(i => $"boost=t{i}:2")),
        ];
        // A tag may hold a colon: the factor follows the last one.
        await ServingChecks.EachIsAProblemNaming(cluster.Http, path, "boost", bad, "boost=drama:-1", "boost 'drama:-1' has factor '-1'", "boost=a:b:2");
    }
}

using System.Net;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;
using static Recommender.Cluster.Tests.Serving.SmallCatalogueTags;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// Several tags (any of them) and left-out tags on every list: a user's, a session's, similar items and the popular
/// list. The small catalogue tags even movies Drama and Romance, odd ones Action and Thriller.
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class TagFilterTests(ServingCluster cluster)
{
    private static IEnumerable<string> Ids(IEnumerable<RecommendedItemReply> items) => items.Select(i => i.Id);

    private async Task<List<RecommendedItemReply>> User(string query) =>
        (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?{query}")).Items;

    [Fact]
    public async Task Several_tags_list_items_carrying_any_and_a_left_out_tag_bars_its_items()
    {
        // Every item the user has not had, best first: each filtered list must be its items that pass, in order.
        var all = await User("k=1000");
        Assert.Equal(Ids(all.Where(Movie).Take(30)), Ids(await User("k=30&tag=drama&tag=ACTION")));
        Assert.Equal(Ids(all.Where(i => !Even(i)).Take(30)), Ids(await User("k=30&excludeTag=Romance")));
        Assert.Equal(Ids(all.Where(Odd).Take(30)), Ids(await User("k=30&tag=thriller&tag=no-such-tag")));
        Assert.Equal(Ids(all.Where(Even).Take(10)), Ids(await User("k=10&tag=Drama&excludeTag=action")));
        // Every drama is a romance; a tag nothing carries bars nothing.
        Assert.Empty(await User("k=10&tag=Drama&excludeTag=romance"));
        Assert.Equal(Ids(all.Take(10)), Ids(await User("k=10&excludeTag=no-such-tag")));
    }

    [Fact]
    public async Task Sessions_similar_items_and_the_popular_list_take_the_same_tag_filters()
    {
        var items = (await cluster.GetJsonAsync<HistoryReply>("/users/5/history")).Events.Select(e => e.ItemId).Distinct().Take(6).ToArray();
        using (var response = await cluster.Http.PostAsJsonAsync("/recommendations?k=12&excludeTag=action&tag=Drama&tag=Thriller", new { items }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var session = (await response.Content.ReadFromJsonAsync<SessionRecommendationsReply>())!;
            Assert.Equal(12, session.Items.Count);
            Assert.All(session.Items, i => Assert.True(Even(i), $"{i.Id} carries Action"));
        }

        var similar = await cluster.GetJsonAsync<SimilarReply>("/items/2/similar?k=12&excludeTag=Drama");
        Assert.Equal(12, similar.Items.Count);
        Assert.All(similar.Items, i => Assert.False(Even(i), $"{i.Id} carries Drama"));
        Assert.Contains(similar.Items, Odd);

        var popular = await cluster.GetJsonAsync<PopularReply>("/popular?k=12&excludeTag=Thriller");
        Assert.Equal(12, popular.Items.Count);
        Assert.All(popular.Items, i => Assert.False(Odd(i), $"{i.Id} carries Thriller"));
        Assert.Contains(popular.Items, Even);
        var cold = await cluster.GetJsonAsync<RecommendationsReply>($"/users/cold-{Guid.NewGuid():N}/recommendations?k=12&tag=romance&tag=action&excludeTag=drama");
        Assert.Equal("popularity", cold.Source);
        Assert.Equal(12, cold.Items.Count);
        Assert.All(cold.Items, i => Assert.True(Odd(i), $"{i.Id} carries Drama or neither tag"));
    }

    [Theory]
    [InlineData("/users/5/recommendations")]
    [InlineData("/items/2/similar")]
    [InlineData("/popular")]
    public async Task A_bad_tag_among_several_or_too_many_tags_is_a_problem_naming_the_parameter(string path)
    {
        using (var blank = await cluster.Http.GetAsync($"{path}?tag=Drama&tag=%20&excludeTag=ok&excludeTag="))
        {
            Assert.Equal(HttpStatusCode.BadRequest, blank.StatusCode);
            var problem = (await blank.Content.ReadFromJsonAsync<ProblemReply>())!;
            Assert.Equal(["excludeTag must not be empty.", "tag must not be empty."],
                problem.Errors!.Where(e => e.Key is "tag" or "excludeTag").SelectMany(e => e.Value).Order(StringComparer.Ordinal));
        }
        var many = string.Join("&", Enumerable.Range(0, 201).Select(i => $"excludeTag=t{i}"));
        using var tooMany = await cluster.Http.GetAsync($"{path}?{many}");
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("excludeTag is given 201 times; the limit is 200.", (await tooMany.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!["excludeTag"]);
    }
}

using System.Net;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// offset= on the serving cluster: pages read in turn make up the list one read of their whole depth gives, items and
/// scores, for users, sessions, similar items and the popularity list, with filters; a bad offset, or one with
/// diversity, is a problem naming it.
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class PagingTests(ServingCluster cluster)
{
    /// <summary>The three pages of <paramref name="pageSize"/> at offsets 0, k and 2k, joined.</summary>
    private static async Task<List<RecommendedItemReply>> ThreePages(Func<string, Task<List<RecommendedItemReply>>> read, int pageSize)
    {
        var joined = new List<RecommendedItemReply>();
        for (var page = 0; page < 3; page++)
        {
            var items = await read($"k={pageSize}&offset={page * pageSize}");
            Assert.Equal(pageSize, items.Count);
            joined.AddRange(items);
        }
        return joined;
    }

    private static void SameList(IReadOnlyList<RecommendedItemReply> whole, IReadOnlyList<RecommendedItemReply> pages)
    {
        Assert.Equal(whole.Select(i => i.Id), pages.Select(i => i.Id));
        // A page's scores are shares of the list down to its end: the last page's are the whole list's.
        var last = whole.Count - pages.Count / 3;
        for (var i = last; i < whole.Count; i++) Assert.Equal(whole[i].Score, pages[i].Score, 12);
        // Earlier pages' shares are over fewer items, so each is at least the whole list's.
        for (var i = 0; i < last; i++) Assert.True(pages[i].Score >= whole[i].Score, $"item {i}: {pages[i].Score} below {whole[i].Score}");
    }

    [Theory]
    [InlineData("")]
    [InlineData("&tag=drama&exclude=2,4")]
    [InlineData("&diversity=0")]
    [InlineData("&includeSeen=true&explain=true")]
    public async Task A_users_pages_make_up_the_list_of_their_whole_depth(string filters)
    {
        async Task<List<RecommendedItemReply>> Read(string query) =>
            (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?{query}{filters}")).Items;
        var whole = await Read("k=21");
        Assert.Equal(21, whole.Count);
        SameList(whole, await ThreePages(Read, 7));
        // Past the end of what the filters leave: an empty page, not an error.
        Assert.Empty(await Read("k=5&offset=995"));
    }

    [Fact]
    public async Task Session_and_similar_item_pages_make_up_their_lists()
    {
        var items = (await cluster.GetJsonAsync<HistoryReply>("/users/5/history")).Events.Select(e => e.ItemId).Distinct().Take(6).ToArray();
        Task<List<RecommendedItemReply>> Session(string query) => ServingChecks.SessionList(cluster.Http, items, $"{query}&exclude={items[0]}");
        SameList(await Session("k=15"), await ThreePages(Session, 5));

        async Task<List<RecommendedItemReply>> Similar(string query) =>
            (await cluster.GetJsonAsync<SimilarReply>($"/items/2/similar?{query}&tag=drama")).Items;
        var similar = await Similar("k=30");
        SameList(similar, await ThreePages(Similar, 10));
        Assert.DoesNotContain(similar, i => i.Id == "2");
    }

    [Fact]
    public async Task Pages_of_the_popularity_list_make_up_the_list()
    {
        async Task<List<RecommendedItemReply>> Cold(string query)
        {
            var reply = await cluster.GetJsonAsync<RecommendationsReply>($"/users/cold-{Guid.NewGuid():N}/recommendations?{query}");
            Assert.Equal("popularity", reply.Source);
            return reply.Items;
        }
        await ServingChecks.WhileTheLiveListSettles(async () =>
        {
            var before = await Cold("k=24");
            var pages = await ThreePages(Cold, 8);
            var after = await Cold("k=24");
            Assert.Equal(before.Select(i => i.Id), after.Select(i => i.Id));
            SameList(after, pages);
        });
    }

    [Theory]
    [InlineData("offset=-1", "offset must be an integer from 0 to 999")]
    [InlineData("offset=abc", "offset must be an integer from 0 to 999")]
    [InlineData("offset=1000&k=1", "offset must be an integer from 0 to 999")]
    [InlineData("offset=991", "offset + k is 1001; a list goes 1000 items deep, so with k=10 offset may be at most 990")]
    [InlineData("offset=1&k=1000", "offset + k is 1001")]
    [InlineData("offset=10&diversity=0.3", "offset does not combine with diversity")]
    public async Task A_bad_offset_is_a_problem_naming_it_on_every_list(string query, string message)
    {
        var items = new[] { "1" };
        foreach (var send in new Func<Task<HttpResponseMessage>>[]
        {
            () => cluster.Http.GetAsync($"/users/5/recommendations?{query}"),
            () => cluster.Http.PostAsJsonAsync($"/recommendations?{query}", new { items }),
            () => cluster.Http.GetAsync($"/items/2/similar?{query}"),
        })
        {
            using var response = await send();
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = (await response.Content.ReadFromJsonAsync<ProblemReply>())!;
            Assert.Contains(message, Assert.Single(problem.Errors!["offset"]));
        }
    }
}

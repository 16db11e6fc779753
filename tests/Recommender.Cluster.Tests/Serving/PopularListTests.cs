using System.Net;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;

namespace Recommender.Cluster.Tests.Serving;

public sealed record PopularReply(string ModelVersion, List<RecommendedItemReply> Items, List<UnplacedPinReply>? UnplacedPins = null,
    List<UnfilledSlotReply>? UnfilledSlots = null);

/// <summary>GET /popular on the serving cluster: the list a user without history gets, with its filters and pages, hidden items left out.</summary>
[Collection(ServingCollection.Name)]
public sealed class PopularListTests(ServingCluster cluster)
{
    private async Task<RecommendationsReply> ColdUser(string query) =>
        await cluster.GetJsonAsync<RecommendationsReply>($"/users/cold-{Guid.NewGuid():N}/recommendations?{query}");

    /// <summary>
    /// Runs <paramref name="compare"/> on a read of /popular taken between two cold users' reads of the same query,
    /// while the silos' copies of the live list settle (<see cref="ServingChecks.WhileTheLiveListSettles"/>).
    /// </summary>
    private async Task WhileTheListStandsStill(string query, Action<RecommendationsReply, PopularReply> compare)
    {
        RecommendationsReply after = null!;
        await ServingChecks.WhileTheLiveListSettles(async () =>
        {
            var before = await ColdUser(query);
            var popular = await cluster.GetJsonAsync<PopularReply>($"/popular?{query}");
            after = await ColdUser(query);
            Assert.Equal(before.Items.Select(i => i.Id), after.Items.Select(i => i.Id));
            compare(after, popular);
        });
        Assert.Equal("popularity", after.Source);
    }

    [Theory]
    [InlineData("k=12")]
    [InlineData("k=6&tag=drama&exclude=2,4")]
    [InlineData("k=6&offset=6")]
    public async Task The_popular_list_is_the_one_a_user_without_history_gets(string query)
    {
        await WhileTheListStandsStill(query, (cold, popular) =>
        {
            Assert.Equal(cold.ModelVersion, popular.ModelVersion);
            Assert.Equal(cold.Items, popular.Items);
        });
        var filtered = await cluster.GetJsonAsync<PopularReply>("/popular?k=6&tag=drama&exclude=2,4");
        Assert.Equal(6, filtered.Items.Count);
        Assert.All(filtered.Items, i => Assert.True(int.Parse(i.Id) % 2 == 0 && i.Id is not "2" and not "4", $"{i.Id} breaks the filters"));
    }

    [Fact]
    public async Task A_hidden_item_leaves_the_popular_list_and_the_answer_is_counted_as_the_popular_subject()
    {
        using var subjects = new RecommendationSubjects(cluster.FrontEndServices);
        var listed = await cluster.GetJsonAsync<PopularReply>("/popular?k=1000");
        Assert.Equal(["popular"], subjects.Seen);
        // The last of the list, which no other test's events lift.
        var id = listed.Items[^1].Id;
        var item = await cluster.GetJsonAsync<ItemReply>($"/items/{id}");
        try
        {
            using (var hide = await cluster.Http.PutAsJsonAsync($"/items/{id}", new { title = item.Title, text = item.Text, tags = item.Tags, hidden = true }))
                Assert.Equal(HttpStatusCode.OK, hide.StatusCode);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            PopularReply after;
            do after = await cluster.GetJsonAsync<PopularReply>("/popular?k=1000");
            while (after.Items.Any(i => i.Id == id) && DateTime.UtcNow < deadline);
            Assert.DoesNotContain(after.Items, i => i.Id == id);
        }
        finally
        {
            using var show = await cluster.Http.PutAsJsonAsync($"/items/{id}", new { title = item.Title, text = item.Text, tags = item.Tags });
            Assert.Equal(HttpStatusCode.OK, show.StatusCode);
        }
    }

    [Theory]
    [InlineData("k=0", "k")]
    [InlineData("offset=-3", "offset")]
    [InlineData("tag=%20", "tag")]
    [InlineData("includeSeen=true", "includeSeen")]
    [InlineData("diversity=2", "diversity")]
    [InlineData("explain=true", "explain")]
    public async Task A_bad_or_unknown_parameter_is_a_problem_naming_it(string query, string parameter)
    {
        using var response = await cluster.Http.GetAsync($"/popular?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains(parameter, body);
    }
}

using System.Net.Http.Json;
using Recommender.Cluster.Tests.Serving;

namespace Recommender.Cluster.Tests.Text;

/// <summary>explain=true: every model-ranked item names the recent history items whose vectors are closest to its own.</summary>
[Collection(TextCollection.Name)]
public sealed class ExplanationTests(TextCluster cluster)
{
    [Fact]
    public async Task Explanations_name_the_history_items_closest_to_each_recommendation()
    {
        var version = TestPackages.NewVersion("text");
        await TextPackages.UploadOk(cluster.Http, TextPackages.WithProjection(cluster.Seed, version, 16));
        await TestPackages.Activate(cluster.Http, version);

        // Two space movies and one kitchen movie.
        var user = $"explained-{Guid.NewGuid():N}";
        string[] history = ["1", "3", "2"];
        using (var post = await cluster.Http.PostAsJsonAsync("/events", history.Select((item, i) => new { userId = user, itemId = item, type = "view", timestamp = DateTimeOffset.UtcNow.AddMinutes(i - 10) }).ToArray()))
            Assert.True(post.IsSuccessStatusCode, await post.Content.ReadAsStringAsync());

        var plain = await cluster.GetJsonAsync<ExplainedRecommendationsReply>($"/users/{user}/recommendations?k=10");
        Assert.Equal("model", plain.Source);
        Assert.All(plain.Items, i => Assert.Null(i.Because));

        var explained = await cluster.GetJsonAsync<ExplainedRecommendationsReply>($"/users/{user}/recommendations?k=10&explain=true");
        Assert.Equal(plain.Items.Select(i => i.Id), explained.Items.Select(i => i.Id));
        var agreeing = 0;
        foreach (var item in explained.Items)
        {
            Assert.NotNull(item.Because);
            Assert.InRange(item.Because!.Count, 1, 2);
            Assert.All(item.Because, r => Assert.Contains(r.ItemId, history));
            Assert.Equal(item.Because.OrderByDescending(r => r.Similarity).Select(r => r.ItemId), item.Because.Select(r => r.ItemId));
            var top = item.Because[0];
            Assert.Equal(ThemedCatalogue.Title(int.Parse(top.ItemId)), top.Title);
            if (int.TryParse(item.Id, out var movie) && ThemedCatalogue.IsSpace(movie) == ThemedCatalogue.IsSpace(int.Parse(top.ItemId))) agreeing++;

            // The same similarity, read through another path: the recommended item's neighbours.
            var neighbours = await cluster.GetJsonAsync<ExplainedRecommendationsReply>($"/items/{item.Id}/similar?k=1000");
            var same = neighbours.Items.Single(n => n.Id == top.ItemId);
            Assert.Equal(same.Similarity, top.Similarity, 3);
            Assert.True(history.Where(h => h != item.Id).All(h => neighbours.Items.Single(n => n.Id == h).Similarity <= top.Similarity + 1e-5f),
                $"{top.ItemId} should be the history item closest to {item.Id}");
        }
        Assert.True(agreeing >= 8, $"recommendations should mostly be explained by history items of their own theme; {agreeing} of {explained.Items.Count} were");

        // A user without history gets the popularity list, which has nothing to explain.
        var cold = await cluster.GetJsonAsync<ExplainedRecommendationsReply>($"/users/cold-{Guid.NewGuid():N}/recommendations?k=5&explain=true");
        Assert.Equal("popularity", cold.Source);
        Assert.All(cold.Items, i => Assert.Null(i.Because));

        using var bad = await cluster.Http.GetAsync($"/users/{user}/recommendations?explain=maybe");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("explain", await bad.Content.ReadAsStringAsync());
    }
}

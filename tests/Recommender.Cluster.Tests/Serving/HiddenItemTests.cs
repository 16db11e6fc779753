using System.Net;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// Items marked hidden stay in the catalogue but leave model answers, similar-item lists and the popular list, under
/// every version; a version not trained on a hidden item gives it no row until it is shown again.
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class HiddenItemTests(ServingCluster cluster)
{
    private static string Cold() => $"/users/cold-{Guid.NewGuid():N}/recommendations";

    private async Task Put(ItemReply item, bool? hidden)
    {
        object body = hidden is { } h ? new { title = item.Title, text = item.Text, tags = item.Tags, hidden = h } : new { title = item.Title, text = item.Text, tags = item.Tags };
        using var response = await cluster.Http.PutAsJsonAsync($"/items/{item.Id}", body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private async Task<string[]> Ids(string path) => (await cluster.GetJsonAsync<RecommendationsReply>(path)).Items.Select(i => i.Id).ToArray();

    [Fact]
    public async Task A_hidden_item_leaves_every_list_until_shown_again_and_stays_hidden_under_another_version()
    {
        var modelTop = (await Ids("/users/5/recommendations?k=10"))[0];
        var popularTop = (await Ids(Cold() + "?k=5"))[0];
        var anchor = (await Ids($"/items/{modelTop}/similar?k=1"))[0];
        Assert.Contains(modelTop, await Ids($"/items/{anchor}/similar?k=1000"));
        var model = await cluster.GetJsonAsync<ItemReply>($"/items/{modelTop}");
        var popular = await cluster.GetJsonAsync<ItemReply>($"/items/{popularTop}");
        var before = (await cluster.GetJsonAsync<ModelsReply>("/models")).Active!;
        try
        {
            await Put(model, hidden: true);
            // A batch hides too.
            using (var batch = await cluster.Http.PostAsJsonAsync("/items", new[] { new { id = popular.Id, title = popular.Title, text = popular.Text, tags = popular.Tags, hidden = true } }))
                Assert.Equal(HttpStatusCode.OK, batch.StatusCode);

            var shown = await cluster.GetJsonAsync<ItemReply>($"/items/{modelTop}");
            Assert.True(shown.Hidden);
            Assert.False(shown.Recommendable);
            Assert.StartsWith("Hidden", shown.Note);

            await ServingChecks.Eventually(async () => !(await Ids("/users/5/recommendations?k=10")).Contains(modelTop), "the hidden item leaves the model's answer");
            Assert.Equal(10, (await Ids("/users/5/recommendations?k=10")).Length);
            // Pinned, it leaves its place to the ranking, and the answer says why.
            Assert.Equal([new(modelTop, 1, "unavailable", Hidden: true)], (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&pin={modelTop}:1")).UnplacedPins!);
            Assert.DoesNotContain(modelTop, await Ids($"/items/{anchor}/similar?k=1000"));
            await ServingChecks.Eventually(async () => !(await Ids(Cold() + "?k=1000")).Contains(popularTop), "the hidden item leaves the popular list");
            // Its own neighbours are still there to ask for.
            Assert.Equal(5, (await Ids($"/items/{modelTop}/similar?k=5")).Length);

            // Another version: the shards are new, the item stays hidden.
            var version = TestPackages.NewVersion("hidden");
            await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, version, 16));
            await TestPackages.Activate(cluster.Http, version);
            await ServingChecks.WaitForVersion(cluster, "5", version);
            Assert.DoesNotContain(modelTop, await Ids("/users/5/recommendations?k=1000"));
            Assert.DoesNotContain(modelTop, await Ids($"/items/{anchor}/similar?k=1000"));
            Assert.DoesNotContain(popularTop, await Ids(Cold() + "?k=1000"));
        }
        finally
        {
            await TestPackages.Activate(cluster.Http, before);
            await Put(model, hidden: null);
            await Put(popular, hidden: false);
        }
        await ServingChecks.WaitForVersion(cluster, "5", before);
        Assert.False((await cluster.GetJsonAsync<ItemReply>($"/items/{modelTop}")).Hidden);
        await ServingChecks.Eventually(async () => (await Ids("/users/5/recommendations?k=10"))[0] == modelTop, "the item shown again is back at the top");
        await ServingChecks.Eventually(async () => (await Ids(Cold() + "?k=1000")).Contains(popularTop), "the item shown again is back in the popular list");
    }

    [Fact]
    public async Task A_hidden_item_no_version_was_trained_on_gets_no_row_in_the_next_version_and_is_placed_again_when_shown()
    {
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        var before = models.Active!;
        var dimension = models.Models.Single(m => m.Version == before).Dimension;
        var tag = $"retired-{Guid.NewGuid():N}";
        var id = $"article-{tag}";
        var random = new Random(5);
        var embedding = Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        async Task PutArticle(object body)
        {
            using var response = await cluster.Http.PutAsJsonAsync($"/items/{id}", body);
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }
        await PutArticle(new { title = "Yesterday's news", tags = new[] { tag }, embedding });
        Assert.Equal([id], await Ids($"/users/5/recommendations?k=5&tag={tag}"));
        // Retired: hidden (its embedding kept), and a new version is activated that was not trained on it.
        await PutArticle(new { title = "Yesterday's news", tags = new[] { tag }, hidden = true });
        Assert.Equal(before, (await cluster.GetJsonAsync<ItemReply>($"/items/{id}")).Placement?.ModelVersion);
        var version = TestPackages.NewVersion("retire");
        try
        {
            await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, version, dimension));
            var activation = await TestPackages.Activate(cluster.Http, version);
            Assert.DoesNotContain(id, activation.NotRecommendable);
            await ServingChecks.WaitForVersion(cluster, "5", version);
            var retired = await cluster.GetJsonAsync<ItemReply>($"/items/{id}");
            Assert.True(retired.Hidden);
            Assert.Null(retired.Placement);
            // Written again while hidden (a catalogue sync, one item or a batch), it is not given a row.
            await PutArticle(new { title = "Yesterday's news, corrected", tags = new[] { tag }, hidden = true });
            using (var batch = await cluster.Http.PostAsJsonAsync("/items", new[] { new { id, title = "Yesterday's news, corrected", tags = new[] { tag }, hidden = true } }))
                Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
            Assert.Null((await cluster.GetJsonAsync<ItemReply>($"/items/{id}")).Placement);

            // Shown again, it is placed under the active version by the embedding it kept, and recommended.
            await PutArticle(new { title = "Yesterday's news", tags = new[] { tag }, hidden = false });
            var shown = await cluster.GetJsonAsync<ItemReply>($"/items/{id}");
            Assert.Equal(version, shown.Placement?.ModelVersion);
            Assert.True(shown.Recommendable);
            await ServingChecks.Eventually(async () => (await Ids($"/users/5/recommendations?k=5&tag={tag}")).SequenceEqual([id]), "the item shown again is recommended under the new version");
        }
        finally
        {
            await TestPackages.Activate(cluster.Http, before);
            await PutArticle(new { title = "Yesterday's news", tags = new[] { tag }, hidden = true });
        }
    }

    [Fact]
    public async Task Hidden_must_be_a_json_boolean()
    {
        var id = "hidden-" + Guid.NewGuid().ToString("N");
        using var response = await cluster.Http.PutAsJsonAsync($"/items/{id}", new { title = "T", hidden = "true" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["'hidden' must be true or false."], (await response.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!["hidden"]);
        Assert.Equal(HttpStatusCode.NotFound, (await cluster.Http.GetAsync($"/items/{id}")).StatusCode);
    }
}

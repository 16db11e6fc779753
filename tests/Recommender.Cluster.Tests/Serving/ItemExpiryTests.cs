using System.Net;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// An item written with <c>expiresAt</c> is recommended until then and, from then on, left out of model answers and
/// similar-item lists as a hidden item is, while it stays in the catalogue; each write replaces the expiry.
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class ItemExpiryTests(ServingCluster cluster)
{
    private async Task<string[]> Ids(string path) => (await cluster.GetJsonAsync<RecommendationsReply>(path)).Items.Select(i => i.Id).ToArray();

    private async Task Put(string id, object body)
    {
        using var response = await cluster.Http.PutAsJsonAsync($"/items/{id}", body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private async Task PostBatch(object[] items)
    {
        using var response = await cluster.Http.PostAsJsonAsync("/items", items);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_item_leaves_the_lists_when_its_expiry_passes_and_each_write_replaces_the_expiry()
    {
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        var dimension = models.Models.Single(m => m.Version == models.Active).Dimension;
        var tag = $"expiring-{Guid.NewGuid():N}";
        var story = $"story-{tag}";
        var sibling = $"sibling-{tag}";
        var random = new Random(11);
        float[] Vector() => Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var storyVector = Vector();
        var userList = $"/users/5/recommendations?k=5&tag={tag}";
        var similarList = $"/items/{sibling}/similar?k=5&tag={tag}";
        try
        {
            await Put(sibling, new { title = "Evergreen", tags = new[] { tag }, embedding = Vector() });
            var expiresAt = DateTimeOffset.UtcNow.AddSeconds(5);
            await Put(story, new { title = "Breaking", tags = new[] { tag }, embedding = storyVector, expiresAt = expiresAt.ToString("O") });
            var fresh = await cluster.GetJsonAsync<ItemReply>($"/items/{story}");
            Assert.Equal(expiresAt, fresh.ExpiresAt);
            Assert.False(fresh.Expired);
            Assert.True(fresh.Recommendable);
            Assert.Contains(story, await Ids(userList));
            Assert.Equal([story], await Ids(similarList));

            // Its time comes: it leaves both lists, stays in the catalogue, and the item beside it stays listed.
            await ServingChecks.Eventually(async () => !(await Ids(userList)).Contains(story), "the expired item leaves the user's list");
            Assert.Equal([sibling], await Ids(userList));
            Assert.Empty(await Ids(similarList));
            Assert.True(DateTimeOffset.UtcNow >= expiresAt);
            var expired = await cluster.GetJsonAsync<ItemReply>($"/items/{story}");
            Assert.True(expired.Expired);
            Assert.False(expired.Recommendable);
            Assert.StartsWith("Expired at", expired.Note);
            Assert.NotNull(expired.Placement);

            // Written again without an expiry, it is back.
            await Put(story, new { title = "Breaking", tags = new[] { tag } });
            Assert.Null((await cluster.GetJsonAsync<ItemReply>($"/items/{story}")).ExpiresAt);
            await ServingChecks.Eventually(async () => (await Ids(userList)).Contains(story), "the item written without an expiry is listed again");

            // A batch with an expiry already passed (Unix seconds) leaves it out at once; one with a later expiry shows it.
            await PostBatch([new { id = story, title = "Breaking", tags = new[] { tag }, expiresAt = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds() }]);
            Assert.True((await cluster.GetJsonAsync<ItemReply>($"/items/{story}")).Expired);
            await ServingChecks.Eventually(async () => !(await Ids(userList)).Contains(story), "an item written with a passed expiry leaves the list");
            await PostBatch([new { id = story, title = "Breaking", tags = new[] { tag }, expiresAt = DateTimeOffset.UtcNow.AddDays(7) }]);
            Assert.False((await cluster.GetJsonAsync<ItemReply>($"/items/{story}")).Expired);
            await ServingChecks.Eventually(async () => (await Ids(similarList)).SequenceEqual([story]), "an item given a later expiry is listed again");
        }
        finally
        {
            await Put(story, new { title = "Breaking", tags = new[] { tag }, hidden = true });
            await Put(sibling, new { title = "Evergreen", tags = new[] { tag }, hidden = true });
        }
    }

    [Theory]
    [InlineData("\"next week\"")]
    [InlineData("true")]
    [InlineData("1e30")]
    [InlineData("\"2026-13-01T00:00:00Z\"")]
    public async Task A_bad_expiry_is_refused_naming_the_field_and_nothing_is_written(string value)
    {
        var id = "expiry-" + Guid.NewGuid().ToString("N");
        using var put = await cluster.Http.PutAsync($"/items/{id}",
            new StringContent($$"""{"title":"T","expiresAt":{{value}}}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Equal(["'expiresAt' must be an ISO-8601 date-time or Unix seconds."], (await put.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!["expiresAt"]);
        using var batch = await cluster.Http.PostAsync("/items",
            new StringContent($$"""[{"id":"{{id}}","title":"T","expiresAt":{{value}}}]""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, batch.StatusCode);
        Assert.Contains((await batch.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!.Keys, key => key.EndsWith("expiresAt", StringComparison.Ordinal) && key.Contains("[0]"));
        Assert.Equal(HttpStatusCode.NotFound, (await cluster.Http.GetAsync($"/items/{id}")).StatusCode);
    }
}

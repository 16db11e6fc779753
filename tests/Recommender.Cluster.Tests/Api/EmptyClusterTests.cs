using System.Net;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Cluster.Tests.Serving;

namespace Recommender.Cluster.Tests.Api;

/// <summary>
/// A fresh deployment without the demo: no model yet. Items and events must be accepted (they are what the first
/// model is trained on), recommendations answer 503 + Retry-After, and the first activation places the items: with
/// their catalogue titles and tags, and only those the catalogue holds.
/// </summary>
public sealed class EmptyClusterTests
{
    [Fact]
    public async Task Before_any_model_items_and_events_are_kept_and_recommendations_ask_to_retry()
    {
        await using var cluster = new Fixture(new ClusterFixtureOptions { Silos = 1, SeedDemo = false });
        await cluster.StartAsync();

        using (var ready = await cluster.Http.GetAsync("/health/ready"))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        using (var rollback = await cluster.Http.PostAsync("/models/rollback", null))
        {
            Assert.Equal(HttpStatusCode.Conflict, rollback.StatusCode);
            Assert.Contains("roll back", await rollback.Content.ReadAsStringAsync());
        }

        using (var put = await cluster.Http.PutAsJsonAsync("/items/first-item", new { title = "First item", text = "A space adventure", tags = new[] { "space" } }))
            Assert.True(put.IsSuccessStatusCode, $"PUT answered {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
        using (var bulk = await cluster.Http.PostAsJsonAsync("/items", new[] { new { id = "second-item", title = "Second item" } }))
            Assert.True(bulk.IsSuccessStatusCode, $"POST /items answered {(int)bulk.StatusCode}: {await bulk.Content.ReadAsStringAsync()}");

        var item = await cluster.GetJsonAsync<ItemReply>("/items/first-item");
        Assert.Equal("First item", item.Title);
        Assert.False(item.Recommendable);
        Assert.Null(item.Placement);

        using (var events = await cluster.Http.PostAsJsonAsync("/events", new[]
        {
            new { userId = "early-user", itemId = "first-item", type = "view" },
            new { userId = "early-user", itemId = "second-item", type = "view" },
        }))
            Assert.True(events.IsSuccessStatusCode, $"POST /events answered {(int)events.StatusCode}: {await events.Content.ReadAsStringAsync()}");
        Assert.Equal(2, (await cluster.GetJsonAsync<HistoryReply>("/users/early-user/history")).TotalCount);

        using var recommendations = await cluster.Http.GetAsync("/users/early-user/recommendations?k=5");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, recommendations.StatusCode);
        Assert.NotNull(recommendations.Headers.RetryAfter);
        var problem = await recommendations.Content.ReadFromJsonAsync<ProblemReply>();
        Assert.Contains("No model is active", problem!.Detail);
        // So is a session's: the items are in the catalogue, but nothing can rank them yet.
        using (var session = await cluster.Http.PostAsJsonAsync("/recommendations?k=5", new { items = new[] { "first-item", "second-item" } }))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, session.StatusCode);
            Assert.Contains("No model is active", (await session.Content.ReadFromJsonAsync<ProblemReply>())!.Detail);
        }

        // The first model knows the catalogue's items and three it does not hold.
        using (var third = await cluster.Http.PutAsJsonAsync("/items/third-item", new { title = "Third item", tags = new[] { "space" } }))
            Assert.True(third.IsSuccessStatusCode, $"PUT answered {(int)third.StatusCode}: {await third.Content.ReadAsStringAsync()}");
        var version = TestPackages.NewVersion("first");
        await TestPackages.UploadOk(cluster.Http, TestPackages.Transformer(["first-item", "second-item", "third-item", "ghost-1", "ghost-2", "ghost-3"], version));
        var activation = await TestPackages.Activate(cluster.Http, version);
        Assert.Equal(3, activation.NotInCatalogue);

        var recommended = await cluster.GetJsonAsync<RecommendationsReply>("/users/early-user/recommendations?k=10");
        Assert.Equal("model", recommended.Source);
        var only = Assert.Single(recommended.Items);
        Assert.Equal(("third-item", "Third item"), (only.Id, only.Title));
        using (var session = await cluster.Http.PostAsJsonAsync("/recommendations?k=10", new { items = new[] { "first-item", "second-item" } }))
            Assert.Equal(["third-item"], (await session.Content.ReadFromJsonAsync<SessionRecommendationsReply>())!.Items.Select(i => i.Id));
        var tagged = await cluster.GetJsonAsync<RecommendationsReply>("/users/early-user/recommendations?k=10&tag=space");
        Assert.Equal(["third-item"], tagged.Items.Select(i => i.Id));
        var similar = await cluster.GetJsonAsync<SimilarReply>("/items/third-item/similar?k=10");
        Assert.Equal(["first-item", "second-item"], similar.Items.Select(i => i.Id).Order(StringComparer.Ordinal));

        // Added later, a model item is recommended under the row the model trained.
        using (var ghost = await cluster.Http.PutAsJsonAsync("/items/ghost-2", new { title = "Second ghost" }))
            Assert.True(ghost.IsSuccessStatusCode, $"PUT answered {(int)ghost.StatusCode}: {await ghost.Content.ReadAsStringAsync()}");
        Assert.NotNull((await cluster.GetJsonAsync<ItemReply>("/items/ghost-2")).Placement?.DenseId);
        var after = await cluster.GetJsonAsync<RecommendationsReply>("/users/early-user/recommendations?k=10");
        Assert.Equal([("ghost-2", "Second ghost"), ("third-item", "Third item")], after.Items.Select(i => (i.Id, i.Title)).OrderBy(p => p.Id, StringComparer.Ordinal));
        Assert.Equal(2, (await TestPackages.Activate(cluster.Http, version)).NotInCatalogue);
    }

    [Fact]
    public async Task The_first_activation_reads_every_item_but_keeps_no_item_grain_without_state_of_its_own()
    {
        await using var cluster = new Fixture(new ClusterFixtureOptions { Silos = 1, SeedDemo = false });
        await cluster.StartAsync();

        // Bulk-loaded items live in their buckets; one of them is then edited by PUT, which gives it state of its own.
        var ids = Enumerable.Range(0, 200).Select(i => $"bulk-{i}").ToArray();
        using (var bulk = await cluster.Http.PostAsJsonAsync("/items", ids.Select(id => new { id, title = $"Title of {id}", tags = new[] { "bulk" } })))
            Assert.True(bulk.IsSuccessStatusCode, $"POST /items answered {(int)bulk.StatusCode}: {await bulk.Content.ReadAsStringAsync()}");
        using (var put = await cluster.Http.PutAsJsonAsync("/items/bulk-7", new { title = "Edited title", tags = new[] { "edited" } }))
            Assert.True(put.IsSuccessStatusCode, $"PUT answered {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");

        var version = TestPackages.NewVersion("lookup");
        await TestPackages.UploadOk(cluster.Http, TestPackages.Transformer([.. ids, "ghost"], version));
        Assert.Equal(1, (await TestPackages.Activate(cluster.Http, version)).NotInCatalogue);

        // Every item was read, but only the edited item's grain, which holds that edit, stays in memory ...
        var management = cluster.Cluster.Client.GetGrain<IManagementGrain>(0);
        var itemType = GrainType.Create("item");
        string[] live = [];
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20); DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            live = [.. (await management.GetDetailedGrainStatistics()).Where(g => g.GrainId.Type == itemType).Select(g => g.GrainId.Key.ToString()!)];
            if (live.All(id => id == "bulk-7")) break;
        }
        Assert.Equal(["bulk-7"], live);

        // ... and the titles and tags read reached the shards, the PUT's over the bulk copy.
        var similar = await cluster.GetJsonAsync<SimilarReply>("/items/bulk-3/similar?k=1000");
        Assert.Equal(ids.Length - 1, similar.Items.Count);
        Assert.All(similar.Items.Where(i => i.Id != "bulk-7"), i => Assert.Equal($"Title of {i.Id}", i.Title));
        Assert.Equal("Edited title", similar.Items.Single(i => i.Id == "bulk-7").Title);
        using (var events = await cluster.Http.PostAsJsonAsync("/events", new { userId = "reader", itemId = "bulk-3", type = "view" }))
            Assert.True(events.IsSuccessStatusCode, $"POST /events answered {(int)events.StatusCode}: {await events.Content.ReadAsStringAsync()}");
        var edited = await cluster.GetJsonAsync<RecommendationsReply>("/users/reader/recommendations?k=1000&tag=edited");
        Assert.Equal(["bulk-7"], edited.Items.Select(i => i.Id));
    }

    private sealed class Fixture(ClusterFixtureOptions options) : ClusterFixture(options), IAsyncDisposable
    {
        async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
    }
}

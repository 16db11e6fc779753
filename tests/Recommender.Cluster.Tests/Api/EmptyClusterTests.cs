using System.Net;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Infrastructure;

namespace Recommender.Cluster.Tests.Api;

/// <summary>
/// A fresh deployment without the demo: no model yet. Items and events must be accepted (they are what the first
/// model is trained on), recommendations answer 503 + Retry-After, and the first activation places the items.
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
    }

    private sealed class Fixture(ClusterFixtureOptions options) : ClusterFixture(options), IAsyncDisposable
    {
        async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
    }
}

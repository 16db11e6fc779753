using System.Net;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// A cluster of its own (its items and purchases would change the shared cluster's popular list and answers), with the
/// serving cluster's short refresh periods.
/// </summary>
public sealed class ItemVectorCluster() : ClusterFixture(ClusterFixtureOptions.ForSmallCatalogue("item-vectors") with { Settings = ServingCluster.FastRefresh })
{
    public string Ratings => Path.Combine(Options.SeedSource!, "ratings.csv");
}

/// <summary>
/// Which vector an item is served with, and the popular list: an item added through the API with its own vector is
/// listed once it is popular; a bulk update keeps an embedding a PUT gave; a trained item keeps its trained vector; an
/// item's own embedding outlives a version of another dimension, and a replaced one is not brought back.
/// </summary>
public sealed class ItemVectorTests(ItemVectorCluster cluster) : IClassFixture<ItemVectorCluster>
{
    private async Task<int> Dimension()
    {
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        return models.Models.Single(m => m.Version == models.Active).Dimension;
    }

    private static float[] Vector(int dimension, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    private async Task Send(HttpResponseMessage response)
    {
        using (response) Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private async Task<string[]> Ids(string path) => (await cluster.GetJsonAsync<RecommendationsReply>(path)).Items.Select(i => i.Id).ToArray();

    private async Task<string[]> Similar(string item) => (await cluster.GetJsonAsync<SimilarReply>($"/items/{item}/similar?k=5")).Items.Select(i => i.Id).ToArray();

    [Fact]
    public async Task An_item_added_with_its_own_vector_reaches_the_popular_list_once_it_is_popular()
    {
        var item = "hot-" + Guid.NewGuid().ToString("N");
        await Send(await cluster.Http.PutAsJsonAsync($"/items/{item}", new { title = "Hot new thing", embedding = Vector(await Dimension(), 1) }));
        Assert.True((await cluster.GetJsonAsync<ItemReply>($"/items/{item}")).Recommendable);
        var now = DateTimeOffset.UtcNow;
        var events = Enumerable.Range(0, 200).Select(i => new { userId = $"{item}-buyer-{i}", itemId = item, type = "purchase", timestamp = now.AddSeconds(-i) }).ToArray();
        await Send(await cluster.Http.PostAsJsonAsync("/events", events));

        var cold = $"/users/cold-{Guid.NewGuid():N}/recommendations?k=5";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!(await Ids(cold)).Contains(item))
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"The item bought 200 times is not among the 5 most popular: {string.Join(", ", await Ids(cold))}.");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task A_bulk_update_without_an_embedding_keeps_the_one_a_put_gave()
    {
        var item = "emb-" + Guid.NewGuid().ToString("N");
        await Send(await cluster.Http.PutAsJsonAsync($"/items/{item}", new { title = "Given", embedding = Vector(await Dimension(), 2) }));
        var neighbours = await Similar(item);

        using (var bulk = await cluster.Http.PostAsJsonAsync("/items", new[] { new { id = item, title = "Renamed in bulk" } }))
        {
            Assert.Equal(HttpStatusCode.OK, bulk.StatusCode);
            // The answer describes the item as kept: with the embedding it is placed by.
            Assert.True((await bulk.Content.ReadFromJsonAsync<ItemsReply>())!.Items.Single().HasEmbedding);
        }
        var after = await cluster.GetJsonAsync<ItemReply>($"/items/{item}");
        Assert.Equal("Renamed in bulk", after.Title);
        Assert.True(after.HasEmbedding);
        Assert.True(after.Recommendable);
        Assert.Equal(neighbours, await Similar(item));
    }

    [Fact]
    public async Task An_items_own_embedding_survives_a_version_of_another_dimension_and_a_replaced_one_is_not_replayed()
    {
        var before = (await cluster.GetJsonAsync<ModelsReply>("/models")).Active!;
        var dimension = await Dimension();
        var item = "own-" + Guid.NewGuid().ToString("N");
        await Send(await cluster.Http.PutAsJsonAsync($"/items/{item}", new { title = "Own vector", text = "A film with its own vector", embedding = Vector(dimension, 4) }));
        var anchor = (await Similar(item))[0];
        var other = TestPackages.NewVersion("wider");
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, other, dimension * 2));
        try
        {
            // The wider version cannot use the embedding (and has no text projection): not recommendable under it ...
            Assert.Contains(item, (await TestPackages.Activate(cluster.Http, other)).NotRecommendable);
            Assert.False((await cluster.GetJsonAsync<ItemReply>($"/items/{item}")).Recommendable);
            // ... but placed by it again when its own dimension is back.
            Assert.DoesNotContain(item, (await TestPackages.Activate(cluster.Http, before)).NotRecommendable);
            Assert.True((await cluster.GetJsonAsync<ItemReply>($"/items/{item}")).Recommendable);
            Assert.Contains(item, (await cluster.GetJsonAsync<SimilarReply>($"/items/{anchor}/similar?k=1000")).Items.Select(i => i.Id));

            // Given a wider embedding under the wider version, the item has none that fits the first: the first
            // version's shards must not bring back the row they stored for it.
            await TestPackages.Activate(cluster.Http, other);
            await Send(await cluster.Http.PutAsJsonAsync($"/items/{item}", new { title = "Own vector", text = "A film with its own vector", embedding = Vector(dimension * 2, 5) }));
            Assert.True((await cluster.GetJsonAsync<ItemReply>($"/items/{item}")).Recommendable);
            Assert.Contains(item, (await TestPackages.Activate(cluster.Http, before)).NotRecommendable);
            Assert.False((await cluster.GetJsonAsync<ItemReply>($"/items/{item}")).Recommendable);
            Assert.DoesNotContain(item, (await cluster.GetJsonAsync<SimilarReply>($"/items/{anchor}/similar?k=1000")).Items.Select(i => i.Id));
        }
        finally
        {
            await TestPackages.Activate(cluster.Http, before);
        }
    }

    [Fact]
    public async Task Activations_and_item_writes_at_the_same_time_both_finish()
    {
        // Items with text but no vector the active version can use: every activation reads their stored details.
        var prefix = "busy-" + Guid.NewGuid().ToString("N")[..8];
        var items = Enumerable.Range(0, 300).Select(i => new { id = $"{prefix}-{i}", title = $"Busy item {i}", text = "Drama" }).ToArray();
        await Send(await cluster.Http.PostAsJsonAsync("/items", items));
        var before = (await cluster.GetJsonAsync<ModelsReply>("/models")).Active!;
        var other = TestPackages.NewVersion("busy");
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, other, 16));

        using var stop = new CancellationTokenSource();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var i = random.Next(items.Length);
                using var put = await cluster.Http.PutAsJsonAsync($"/items/{prefix}-{i}", new { title = $"Busy item {i} r{n}", text = "Drama" });
                if (put.StatusCode != HttpStatusCode.OK) failures.Add($"PUT {(int)put.StatusCode}");
            }
        })).ToArray();
        try
        {
            foreach (var version in new[] { other, before, other, before })
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                using var response = await cluster.Http.PostAsync($"/models/{version}/activate", null);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"activating {version}: {(int)response.StatusCode} after {clock.Elapsed.TotalSeconds:F1} s: {await response.Content.ReadAsStringAsync()}");
            }
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(writers);
            await TestPackages.Activate(cluster.Http, before);
        }
        Assert.Empty(failures);
    }

    [Fact]
    public async Task An_embedding_sent_for_a_trained_item_leaves_its_trained_vector_in_place()
    {
        var trained = (await Ids("/users/7/recommendations?k=3"))[^1];
        var item = await cluster.GetJsonAsync<ItemReply>($"/items/{trained}");
        Assert.True(item.Placement!.DenseId > 0);
        var neighbours = await Similar(trained);

        await Send(await cluster.Http.PutAsJsonAsync($"/items/{trained}", new { title = item.Title, text = item.Text, tags = item.Tags, embedding = Vector(await Dimension(), 3) }));
        var after = await cluster.GetJsonAsync<ItemReply>($"/items/{trained}");
        Assert.Equal(item.Placement.DenseId, after.Placement!.DenseId);
        Assert.Equal(neighbours, await Similar(trained));
    }
}

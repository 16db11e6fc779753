using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;
using Recommender.Grains.Inference;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>After another version is activated and the old one has drained, every silo disposes the old version's ONNX sessions and its item shards deactivate, while serving goes on.</summary>
[Collection(ServingCollection.Name)]
public sealed class ModelUnloadTests(ServingCluster cluster)
{
    private static readonly GrainType ShardType = GrainType.Create("itemshard");

    private async Task<bool> ShardsActive(string version)
    {
        var management = cluster.Cluster.Client.GetGrain<IManagementGrain>(0);
        var grains = await management.GetDetailedGrainStatistics();
        return grains.Any(g => g.GrainId.Type == ShardType && g.GrainId.Key.ToString()!.StartsWith(version + "/", StringComparison.Ordinal));
    }

    private static async Task Until(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Not within {timeout}: {what}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task The_replaced_version_s_sessions_are_disposed_on_every_silo_and_its_shards_deactivate_while_serving_continues()
    {
        var a = TestPackages.NewVersion("unload-a");
        var b = TestPackages.NewVersion("unload-b");
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, a, 16));
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, b, 16));

        // Sessions opened and closed per version, as the serving meter reports them.
        var sessions = new ConcurrentDictionary<string, int>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == ServingMetrics.MeterName && instrument.Name == "recommender.inference.sessions") l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == "model" && tag.Value is string model) sessions.AddOrUpdate(model, value, (_, n) => n + value);
        });
        listener.Start();

        await TestPackages.Activate(cluster.Http, a);
        var users = Enumerable.Range(0, 16).Select(i => $"unload-{i}-{Guid.NewGuid():N}").ToArray();
        foreach (var user in users)
            await ServingChecks.Post(cluster.Http, new { userId = user, itemId = (1 + user.Length % 50).ToString(), type = "view", timestamp = ServingChecks.Now() });
        var fromA = new List<RecommendationsReply>();
        foreach (var user in users) fromA.Add(await ServingChecks.WaitForVersion(cluster, user, a));
        Assert.Contains(fromA, r => r.Source == "model");
        Assert.Contains(cluster.Registries, r => r.OpenSessions.Contains(a));
        Assert.True(sessions.GetValueOrDefault(a) > 0);

        var failures = new ConcurrentBag<string>();
        var versions = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        async Task Reader(int seed)
        {
            var random = new Random(seed);
            while (!stop.IsCancellationRequested)
            {
                var user = users[random.Next(users.Length)];
                using var response = await cluster.Http.GetAsync($"/users/{user}/recommendations?k=5");
                if (!response.IsSuccessStatusCode) failures.Add($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                else versions.Add((await response.Content.ReadFromJsonAsync<RecommendationsReply>())!.ModelVersion);
            }
        }
        var readers = Enumerable.Range(0, 4).Select(i => Task.Run(() => Reader(i))).ToArray();

        await TestPackages.Activate(cluster.Http, b);
        // The retire grace is 2 s and each silo checks every 0.5 s: A goes once no request has used it for the grace.
        await Until(() => Task.FromResult(cluster.Registries.All(r => !r.OpenSessions.Contains(a))), TimeSpan.FromSeconds(30), $"every silo closes the sessions of {a}");
        await Until(async () => !await ShardsActive(a), TimeSpan.FromSeconds(30), $"the item shards of {a} deactivate");
        Assert.Equal(0, sessions.GetValueOrDefault(a));

        // Serving carries on under B (and a request that still names A would simply load it again).
        var served = versions.Count;
        await Until(() => Task.FromResult(versions.Count > served + 20), TimeSpan.FromSeconds(30), "more recommendations are served");
        await stop.CancelAsync();
        await Task.WhenAll(readers);
        Assert.Empty(failures);
        foreach (var user in users) Assert.Equal(b, (await ServingChecks.WaitForVersion(cluster, user, b)).ModelVersion);
        Assert.Contains(cluster.Registries, r => r.OpenSessions.Contains(b));
        Assert.True(await ShardsActive(b));
    }
}

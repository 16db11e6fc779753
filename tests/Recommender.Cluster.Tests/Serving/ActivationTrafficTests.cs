using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>Reads and writes keep flowing while a second version is activated: no failure, no answer mixing versions, no event lost.</summary>
[Collection(ServingCollection.Name)]
public sealed class ActivationTrafficTests(ServingCluster cluster)
{
    private sealed record Read(string User, int Status, RecommendationsReply? Reply, string? Failure, long At);

    [Fact]
    public async Task Concurrent_reads_and_writes_during_an_activation_never_fail_or_mix_versions()
    {
        // Two versions with different item sets: "upper" knows movies 41..120, "lower" 1..80, so an answer's items show its version.
        var upper = TestPackages.NewVersion("upper");
        var lower = TestPackages.NewVersion("lower");
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, upper, 16, keep: m => m > 40));
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, lower, 16, keep: m => m <= 80));
        await TestPackages.Activate(cluster.Http, upper);

        var users = Enumerable.Range(0, 12).Select(i => $"traffic-{i}-{Guid.NewGuid():N}").ToArray();
        foreach (var user in users)
            await ServingChecks.Post(cluster.Http, Enumerable.Range(0, 5).Select(j => (object)new { userId = user, itemId = (41 + (j * 7 + user.Length) % 40).ToString(), type = "view", timestamp = ServingChecks.Now() }).ToArray());
        var acknowledged = new ConcurrentDictionary<string, int>(users.ToDictionary(u => u, _ => 5));
        var reads = new ConcurrentBag<Read>();
        var failures = new ConcurrentBag<string>();
        var clock = Stopwatch.StartNew();
        long activatedAt = long.MaxValue;
        using var stop = new CancellationTokenSource();

        async Task Worker(int w)
        {
            var random = new Random(w);
            while (!stop.IsCancellationRequested)
            {
                var user = users[random.Next(users.Length)];
                var item = (41 + random.Next(40)).ToString();
                using (var post = await cluster.Http.PostAsJsonAsync("/events", new { userId = user, itemId = item, type = "click", timestamp = ServingChecks.Now(), eventId = Guid.NewGuid().ToString("N") }))
                {
                    if (post.IsSuccessStatusCode) acknowledged.AddOrUpdate(user, 1, (_, n) => n + 1);
                    else failures.Add($"POST /events {(int)post.StatusCode}: {await post.Content.ReadAsStringAsync()}");
                }
                using var get = await cluster.Http.GetAsync($"/users/{user}/recommendations?k=10");
                var at = clock.ElapsedMilliseconds;
                if (get.IsSuccessStatusCode) reads.Add(new Read(user, 200, await get.Content.ReadFromJsonAsync<RecommendationsReply>(), null, at));
                else failures.Add($"GET recommendations {(int)get.StatusCode}: {await get.Content.ReadAsStringAsync()}");
            }
        }

        var workers = Enumerable.Range(0, 6).Select(w => Task.Run(() => Worker(w))).ToArray();
        await Task.Delay(700);
        var activation = await TestPackages.Activate(cluster.Http, lower);
        activatedAt = clock.ElapsedMilliseconds;
        await Task.Delay(1000);
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        Assert.Empty(failures);
        Assert.Equal(upper, activation.Previous);
        var answers = reads.Select(r => r.Reply!).ToArray();
        Assert.True(answers.Length > 30, $"only {answers.Length} reads completed");
        Assert.All(answers, a => Assert.Contains(a.ModelVersion, new[] { upper, lower }));
        Assert.Contains(answers, a => a.ModelVersion == upper);
        Assert.Contains(answers, a => a.ModelVersion == lower);
        foreach (var a in answers)
        {
            Assert.Equal("model", a.Source);
            Assert.Equal(10, a.Items.Count);
            // Items other tests added through the API (non-numeric ids) are placed by their own vectors under both versions.
            var movies = a.Items.Select(i => int.TryParse(i.Id, out var movie) ? movie : (int?)null).OfType<int>().ToArray();
            Assert.True(a.ModelVersion == upper ? movies.All(m => m > 40) : movies.All(m => m <= 80),
                $"{a.ModelVersion} answered with items outside its catalogue: {string.Join(",", movies)}");
        }
        // Once the activation has returned (and the 200 ms caches have expired) every answer comes from the new version.
        Assert.All(reads.Where(r => r.At > activatedAt + 300), r => Assert.Equal(lower, r.Reply!.ModelVersion));

        foreach (var user in users)
        {
            var history = await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history");
            Assert.Equal(acknowledged[user], history.TotalCount);
            Assert.Equal(history.Events.OrderBy(e => e.Timestamp).Select(e => e.EventId), history.Events.Select(e => e.EventId));
        }
    }

    [Fact]
    public async Task The_interest_vector_cache_is_invalidated_by_a_new_event_and_by_an_activation()
    {
        var user = "cache-" + Guid.NewGuid().ToString("N");
        await ServingChecks.Post(cluster.Http, new { userId = user, itemId = "2", type = "view", timestamp = ServingChecks.Now() }, new { userId = user, itemId = "4", type = "view", timestamp = ServingChecks.Now() });
        var url = $"/users/{user}/recommendations?k=5";
        Assert.False((await cluster.GetJsonAsync<RecommendationsReply>(url)).Cached);
        Assert.True((await cluster.GetJsonAsync<RecommendationsReply>(url)).Cached);

        await ServingChecks.Post(cluster.Http, new { userId = user, itemId = "6", type = "like", timestamp = ServingChecks.Now() });
        Assert.False((await cluster.GetJsonAsync<RecommendationsReply>(url)).Cached);
        var cached = await cluster.GetJsonAsync<RecommendationsReply>(url);
        Assert.True(cached.Cached);

        var next = TestPackages.NewVersion("recache");
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, next, 16));
        await TestPackages.Activate(cluster.Http, next);
        var first = await cluster.GetJsonAsync<RecommendationsReply>(url);
        Assert.Equal(next, first.ModelVersion);
        Assert.False(first.Cached);
        var second = await cluster.GetJsonAsync<RecommendationsReply>(url);
        Assert.Equal(next, second.ModelVersion);
        Assert.True(second.Cached);
    }
}

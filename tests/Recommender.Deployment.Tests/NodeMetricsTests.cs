using System.Net.Http.Json;
using System.Text.Json;

namespace Recommender.Deployment.Tests;

/// <summary>/metrics of every process of the multi-process cluster: the silos export what runs in them.</summary>
[Collection(ClusterCollection.Name)]
public sealed class NodeMetricsTests(ClusterFixture fixture)
{
    private LocalCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Each_silo_exports_its_own_metrics_and_the_encoder_runs_are_counted_where_they_ran()
    {
        await fixture.RestoreBaselineAsync();
        var api = Cluster.Api!.BaseAddress;
        // Users with demo movies in their histories get model recommendations: the encoder runs on the silos hosting
        // their grains, which placement spreads over the three.
        var run = Guid.NewGuid().ToString("N")[..8];
        static string[] Ids(string json) => [.. JsonDocument.Parse(json).RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!)];
        var nextItemsBefore = await SumOverSilosAsync("recommender_online_next_items_total{", "source=\"model\"");
        var topOneBefore = await SumOverSilosAsync("recommender_online_next_item_rank_bucket{", "le=\"1\"");
        var nextItems = new List<string>();
        for (var u = 0; u < 12; u++)
        {
            var user = $"metrics-{run}-{u}";
            var events = new[] { "1", "260", "1196" }.Select((item, i) => new { userId = user, itemId = item, type = "view", timestamp = DateTimeOffset.UtcNow.AddMinutes(i - 10) });
            (await Cluster.Http.PostAsJsonAsync(new Uri(api, "/events"), events)).EnsureSuccessStatusCode();
            using var recommendations = await Cluster.Http.GetAsync(new Uri(api, $"/users/{user}/recommendations?k=5"));
            recommendations.EnsureSuccessStatusCode();
            var body = await recommendations.Content.ReadAsStringAsync();
            Assert.Contains("\"source\":\"model\"", body);
            // Every user's next event is the first item recommended: counted by the silo holding the user's grain.
            var next = new { userId = user, itemId = Ids(body)[0], type = "click", timestamp = DateTimeOffset.UtcNow };
            (await Cluster.Http.PostAsJsonAsync(new Uri(api, "/events"), next)).EnsureSuccessStatusCode();
            nextItems.Add(next.itemId);
        }
        Assert.Equal(12, await SumOverSilosAsync("recommender_online_next_items_total{", "source=\"model\"") - nextItemsBefore);
        Assert.Equal(12, await SumOverSilosAsync("recommender_online_next_item_rank_bucket{", "le=\"1\"") - topOneBefore);

        // The first user's items as an anonymous session, through the front end's cluster client to whichever silo takes it:
        // the ranking of the stored history (ids compared: each answer's vector came from an encoder batch of its own).
        var stored = Ids(await Cluster.Http.GetStringAsync(new Uri(api, $"/users/metrics-{run}-0/recommendations?k=5")));
        using (var session = await Cluster.Http.PostAsJsonAsync(new Uri(api, "/recommendations?k=5"), new { items = new[] { "1", "260", "1196", nextItems[0] } }))
        {
            var body = await session.Content.ReadAsStringAsync();
            Assert.True(session.IsSuccessStatusCode, body);
            Assert.Contains("\"source\":\"model\"", body);
            Assert.Equal(stored, Ids(body));
        }

        var silos = new List<string>();
        foreach (var index in ClusterFixture.BaselineSilos)
        {
            var text = await Cluster.Http.GetStringAsync(new Uri(Cluster.Silos[index].BaseAddress, "/metrics"));
            Assert.Contains("service_name=\"recommender-silo\"", text);
            Assert.Contains("orleans_catalog_activations", text);
            silos.Add(text);
        }
        Assert.Contains(silos, text => text.Contains("recommender_inference_batch_size", StringComparison.Ordinal));

        var front = await Cluster.Http.GetStringAsync(new Uri(api, "/metrics"));
        Assert.Contains("service_name=\"recommender-api\"", front);
        Assert.Contains("recommender_recommendation_duration", front);
        Assert.Contains("subject=\"session\"", front);
    }

    /// <summary>The sum over the silos' /metrics of the samples of <paramref name="series"/> (its name and "{") whose labels hold <paramref name="label"/>.</summary>
    private async Task<double> SumOverSilosAsync(string series, string label)
    {
        var sum = 0.0;
        foreach (var index in ClusterFixture.BaselineSilos)
        {
            var text = await Cluster.Http.GetStringAsync(new Uri(Cluster.Silos[index].BaseAddress, "/metrics"));
            foreach (var line in text.Split('\n'))
            {
                if (!line.StartsWith(series, StringComparison.Ordinal)) continue;
                var labels = line[..(line.LastIndexOf('}') + 1)];
                if (labels.Contains(label, StringComparison.Ordinal))
                    sum += double.Parse(line[(labels.Length + 1)..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return sum;
    }
}

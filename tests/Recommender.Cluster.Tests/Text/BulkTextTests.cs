using System.Diagnostics;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Cluster.Tests.Serving;
using Recommender.Model.Text;
using Xunit.Abstractions;

namespace Recommender.Cluster.Tests.Text;

/// <summary>A cluster of its own, so that thousands of bulk-loaded items do not crowd the other text tests' neighbour lists.</summary>
public sealed class BulkTextCluster() : ClusterFixture(Create())
{
    public string Seed => Options.SeedSource!;

    private static ClusterFixtureOptions Create() => TextCluster.ThemedOptions("bulk-text");
}

/// <summary>Bulk loading through POST /items: texts encoded in batches, every item placed by the text projection.</summary>
public sealed class BulkTextTests(BulkTextCluster cluster, ITestOutputHelper output) : IClassFixture<BulkTextCluster>
{
    /// <summary>Items per POST: the API's limit, about 75 KB of JSON.</summary>
    private const int BatchSize = Recommender.Abstractions.Limits.MaxItemsPerRequest;

    private static readonly string[] Subjects = ["starship", "bakery", "detective", "dragon", "vineyard", "submarine", "orchestra", "robot", "castle", "marathon"];
    private static readonly string[] Plots = ["a daring rescue", "a secret recipe", "an unsolved murder", "a lost kingdom", "a family feud", "a race against time", "a first love", "a stolen painting"];

    public static object Item(string id, int i) => new
    {
        id,
        title = $"The {Subjects[i % Subjects.Length]} of {Plots[i / 10 % Plots.Length]} {i}",
        text = $"A story about {Plots[i % Plots.Length]} involving a {Subjects[i / 7 % Subjects.Length]}, told over {1 + i % 9} chapters.",
        tags = new[] { Subjects[i % Subjects.Length], i % 2 == 0 ? "Drama" : "Adventure" },
    };

    [Fact]
    public async Task Bulk_loading_items_with_text_places_every_one_by_its_text()
    {
        // RECOMMENDER_BULK_ITEMS=10000 measures the 10,000-item load (the figure quoted in the docs); the suite loads a
        // full POST and part of a second.
        var count = int.TryParse(Environment.GetEnvironmentVariable("RECOMMENDER_BULK_ITEMS"), out var n) && n > 0 ? n : BatchSize + 100;
        var version = TestPackages.NewVersion("bulk");
        await TextPackages.UploadOk(cluster.Http, TextPackages.WithProjection(cluster.Seed, version, 16));
        await TestPackages.Activate(cluster.Http, version);
        await cluster.WarmTextEncodersAsync();

        var prefix = $"bulk-{Guid.NewGuid():N}"[..13];
        var ids = Enumerable.Range(0, count).Select(i => $"{prefix}-{i}").ToArray();

        // Reported, not asserted (speed is a benchmark's business, and this machine's load varies): the bare sentence
        // encoder on the same texts, with every core, in this process, as the baseline for the bulk load's rate.
        var texts = ids.Select((id, i) => (dynamic)Item(id, i)).Select(item => ItemText.Compose((string)item.title, (string)item.text, (string[])item.tags)).ToArray();
        double encoderRate;
        using (var bare = new SentenceTextEncoder(Environment.ProcessorCount))
        {
            bare.Encode(texts[..Math.Min(32, count)]);
            var started = Stopwatch.StartNew();
            bare.Encode(texts.OrderBy(t => t.Length).ToArray());
            encoderRate = count / started.Elapsed.TotalSeconds;
        }

        var clock = Stopwatch.StartNew();
        var placed = 0;
        foreach (var chunk in ids.Select((id, i) => (id, i)).Chunk(BatchSize))
        {
            using var post = await cluster.Http.PostAsJsonAsync("/items", chunk.Select(p => Item(p.id, p.i)).ToArray());
            Assert.True(post.IsSuccessStatusCode, await post.Content.ReadAsStringAsync());
            var reply = (await post.Content.ReadFromJsonAsync<TextItemsReply>())!;
            Assert.Equal(chunk.Select(p => p.id), reply.Items.Select(i => i.Id));
            placed += reply.Items.Count(i => i.Recommendable && i.HasTextVector && i.VectorSource == "text");
        }
        var elapsed = clock.Elapsed;
        var rate = count / elapsed.TotalSeconds;
        output.WriteLine($"{count} items in {elapsed.TotalSeconds:0.0} s: {rate:0} items/s through POST /items ({BatchSize} per POST, sequential); "
            + $"the bare encoder: {encoderRate:0} texts/s; ratio {rate / encoderRate:0.00}; 10,000 items would take {10_000 / rate:0} s");

        Assert.Equal(count, placed);
        var last = await cluster.GetJsonAsync<ExplainedRecommendationsReply>($"/items/{ids[^1]}/similar?k=5");
        Assert.Equal(5, last.Items.Count);
        var stored = await cluster.GetJsonAsync<TextItemReply>($"/items/{ids[0]}");
        Assert.True(stored.HasTextVector && stored.Recommendable, $"{stored}");
    }
}

using System.Diagnostics;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Model.Packaging;

namespace Recommender.Cluster.Tests.Traffic;

/// <summary>
/// The shared state of the traffic tests: a two-silo cluster seeded with the small catalogue plus items added with
/// explicit embeddings, and one run of simulated traffic through its API, with the ledger of what was acknowledged.
/// </summary>
public sealed class TrafficRun : IAsyncLifetime
{
    public const int Workers = 16;
    public const int AddedItems = 24;

    public TrafficRun()
    {
        Cluster = new ClusterFixture(ClusterFixtureOptions.ForSmallCatalogue("traffic") with { Shards = 4 });
    }

    public ClusterFixture Cluster { get; }

    /// <summary>Items added through the API before the traffic, with the embeddings they were given.</summary>
    public IReadOnlyDictionary<string, float[]> Embeddings { get; private set; } = new Dictionary<string, float[]>();

    public string ModelVersion { get; private set; } = "";

    public TrafficPlan Plan { get; private set; } = null!;

    public TrafficLedger Ledger { get; } = new();

    public TimeSpan Duration { get; private set; }

    public async Task InitializeAsync()
    {
        await Cluster.StartAsync();
        ModelVersion = (await Cluster.GetJsonAsync<RecommendationsReply>("/users/1/recommendations?k=1")).ModelVersion;

        var random = new Random(11);
        var embeddings = Enumerable.Range(0, AddedItems).ToDictionary(
            i => $"traffic-item-{i:D2}",
            _ => Enumerable.Range(0, 16).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray());
        using var response = await Cluster.Http.PostAsJsonAsync("/items", embeddings.Select(e => new { id = e.Key, title = "Added " + e.Key, embedding = e.Value }).ToArray());
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        Assert.All((await response.Content.ReadFromJsonAsync<ItemsReply>())!.Items, i => Assert.True(i.Recommendable, $"{i.Id} was not placed"));
        Embeddings = embeddings;

        Plan = new TrafficGenerator(new TrafficOptions()).Generate([.. LoadPackage().Manifest.ItemIds, .. embeddings.Keys]);
        var clock = Stopwatch.StartNew();
        await TrafficDriver.RunAsync(Cluster.Http, Plan, Ledger, Workers);
        Duration = clock.Elapsed;
    }

    /// <summary>The active model's package as stored in the data directory.</summary>
    public ModelPackage LoadPackage() => ModelPackage.Load(Path.Combine(Cluster.DataDirectory, "models", ModelVersion));

    /// <summary>The reference over every recommendable item: the package's item vectors and the added embeddings.</summary>
    public BruteForceRanking Reference()
    {
        var package = LoadPackage();
        var reference = new BruteForceRanking(package.Manifest.Dimension, package.Manifest.Similarity == SimilarityKinds.Cosine);
        for (var dense = 1; dense <= package.Manifest.ItemIds.Count; dense++) reference.Add(package.Manifest.ItemIds[dense - 1], package.ItemVector(dense));
        foreach (var (id, vector) in Embeddings) reference.Add(id, vector);
        return reference;
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

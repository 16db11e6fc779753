using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Cluster.Tests.Serving;
using Recommender.Grains.Text;

namespace Recommender.Cluster.Tests.Text;

/// <summary>Two silos seeded with the <see cref="ThemedCatalogue"/>, with the short refresh periods of the serving tests.</summary>
public sealed class TextCluster() : ClusterFixture(Create())
{
    public string Seed => Options.SeedSource!;

    public string Ratings => Path.Combine(Seed, "ratings.csv");

    private static ClusterFixtureOptions Create() => ThemedOptions("text");

    /// <summary>Two silos seeded with a fresh themed catalogue (dim 16) under a temporary directory named by <paramref name="prefix"/>.</summary>
    public static ClusterFixtureOptions ThemedOptions(string prefix) =>
        ClusterFixtureOptions.ForGeneratedSeed(prefix, directory => ThemedCatalogue.Write(Path.Combine(directory, "themed")))
            with { Settings = ServingCluster.FastRefresh };
}

public static class TextEncoderWarmUp
{
    /// <summary>Loads the sentence encoder on every silo, so that timings measure serving rather than the one-off model load.</summary>
    public static async Task WarmTextEncodersAsync(this ClusterFixture fixture)
    {
        foreach (var silo in fixture.Cluster.Silos.OfType<InProcessSiloHandle>())
            await silo.ServiceProvider.GetRequiredService<TextEncoding>().EncodeAsync(["warm-up"]);
    }
}

[CollectionDefinition(Name)]
public sealed class TextCollection : ICollectionFixture<TextCluster>
{
    public const string Name = "text cluster";
}

// The item and recommendation JSON with the text fields, as a client reads it.
public sealed record TextPlacementReply(string ModelVersion, int Shard, int Row, int? DenseId);

public sealed record TextItemReply(string Id, string Title, bool HasEmbedding, bool Recommendable, TextPlacementReply? Placement, bool HasTextVector, string? VectorSource, string? Note);

public sealed record TextItemsReply(int Count, List<TextItemReply> Items);

public sealed record ReasonReply(string ItemId, string Title, float Similarity);

public sealed record ExplainedItemReply(string Id, string Title, double Score, float Similarity, List<ReasonReply>? Because);

public sealed record ExplainedRecommendationsReply(string UserId, string ModelVersion, string Source, List<ExplainedItemReply> Items);

public sealed record TextModelReply(string Version, string ItemRepresentation, bool TextProjection, string State);

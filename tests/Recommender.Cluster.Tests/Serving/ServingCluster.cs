using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Grains.Inference;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// Two silos seeded with the small catalogue, with short refresh periods (catalogue cache, popularity flush and
/// rebuild, shard retirement, model unloading) so that activations and popularity changes show within a test.
/// </summary>
public sealed class ServingCluster() : ClusterFixture(ClusterFixtureOptions.ForSmallCatalogue("serving") with { Settings = FastRefresh })
{
    public static readonly IReadOnlyDictionary<string, string?> FastRefresh = new Dictionary<string, string?>
    {
        ["Recommender:CatalogueCacheTtl"] = "00:00:00.200",
        ["Recommender:RetireGrace"] = "00:00:02",
        ["Recommender:Inference:UnloadCheckInterval"] = "00:00:00.500",
        ["Recommender:Popularity:FlushInterval"] = "00:00:00.200",
        ["Recommender:Popularity:RefreshInterval"] = "00:00:00.200",
    };

    /// <summary>The generated catalogue's ratings (MovieLens layout), from which the tests build their model versions.</summary>
    public string Ratings => Path.Combine(Options.SeedSource!, "ratings.csv");

    /// <summary>Each silo's model registry (the versions it holds loaded).</summary>
    public IEnumerable<ModelRegistry> Registries =>
        Cluster.Silos.Cast<InProcessSiloHandle>().Select(s => s.SiloHost.Services.GetRequiredService<ModelRegistry>());
}

[CollectionDefinition(Name)]
public sealed class ServingCollection : ICollectionFixture<ServingCluster>
{
    public const string Name = "serving cluster";
}

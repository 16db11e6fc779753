using Recommender.Cluster.Tests.Infrastructure;

namespace Recommender.Cluster.Tests.Api;

/// <summary>The API test classes share one two-silo cluster seeded with the small catalogue.</summary>
[CollectionDefinition(Name)]
public sealed class SmallClusterCollection : ICollectionFixture<SmallCatalogueCluster>
{
    public const string Name = "small cluster";
}

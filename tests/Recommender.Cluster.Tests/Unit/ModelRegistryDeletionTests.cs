using Recommender.Cluster.Tests.Serving;
using Recommender.Grains.Inference;
using Recommender.Model.Onnx;

namespace Recommender.Cluster.Tests.Unit;

/// <summary>A deleted version's package leaves the models directory in one rename, comes back when its deletion cannot be recorded, and is purged.</summary>
public sealed class ModelRegistryDeletionTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("recommender-registry-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_withdrawn_package_is_not_found_under_its_version_and_is_restored_or_purged()
    {
        var models = Path.Combine(_directory, "models");
        using var registry = new ModelRegistry(models, new OnnxThreading());
        var ids = Enumerable.Range(1, 30).Select(i => i.ToString()).ToArray();
        registry.Save(TestPackages.Transformer(ids, "v1", dimension: 8, maxLength: 8));
        registry.Save(TestPackages.Transformer(ids, "v2", dimension: 8, maxLength: 8));
        Assert.Equal(["v1", "v2"], registry.Loaded);

        var aside = registry.Withdraw("v1")!;
        Assert.False(registry.Exists("v1"));
        Assert.Equal(["v2"], registry.Loaded);
        Assert.Throws<DirectoryNotFoundException>(() => registry.Get("v1"));
        Assert.Null(registry.Withdraw("v1"));

        registry.Restore("v1", aside);
        Assert.True(registry.Exists("v1"));
        Assert.Equal(30, registry.Get("v1").Manifest.ItemCount);
        Assert.False(Directory.Exists(aside));

        // Only a directory this registry withdrew is ever deleted.
        Assert.Throws<ArgumentException>(() => registry.Purge(Path.Combine(models, "v2")));
        Assert.Throws<ArgumentException>(() => registry.Purge(Path.Combine(_directory, ".deleting-x")));
        aside = registry.Withdraw("v1")!;
        registry.Purge(aside);
        Assert.False(Directory.Exists(aside));

        // A deletion interrupted before its purge: the next start removes the files.
        var interrupted = registry.Withdraw("v2")!;
        Assert.Equal(1, registry.PurgeWithdrawn());
        Assert.False(Directory.Exists(interrupted));
        Assert.Empty(Directory.GetFileSystemEntries(models));
        Assert.Equal(0, registry.PurgeWithdrawn());
    }
}

using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>A whole cluster stopped and started again on the same data directory keeps its registry and active version.</summary>
public sealed class RegistryRestartTests
{
    [Fact]
    public async Task A_registered_transformer_stays_active_across_a_full_restart()
    {
        var root = Path.Combine(Path.GetTempPath(), "recommender-tests", "registry-restart-" + Guid.NewGuid().ToString("N"));
        var options = new ClusterFixtureOptions
        {
            Silos = 2,
            SeedSource = SmallCatalogue.Write(Path.Combine(root, "small")),
            SeedDimension = 16,
            DataDirectory = Path.Combine(root, "data"),
            Settings = ServingCluster.FastRefresh,
        };
        var version = TestPackages.NewVersion("sasrec");
        string baseline;
        await using (var first = new Fixture(options))
        {
            await first.StartAsync();
            baseline = (await first.GetJsonAsync<ModelsReply>("/models")).Active!;
            await TestPackages.UploadOk(first.Http, TestPackages.Transformer(Enumerable.Range(1, SmallCatalogue.Movies).Select(i => i.ToString()).ToArray(), version));
            await TestPackages.Activate(first.Http, version);
            var served = await first.GetJsonAsync<RecommendationsReply>("/users/3/recommendations?k=5");
            Assert.Equal(version, served.ModelVersion);
            Assert.Equal("model", served.Source);
            await first.StopAsync();
        }

        await using var second = new Fixture(options with { ReadyTimeout = TimeSpan.FromSeconds(30) });
        await second.StartAsync();
        var models = await second.GetJsonAsync<ModelsReply>("/models");
        Assert.Equal(version, models.Active);
        Assert.Equal("sasrec", models.Models.Single(m => m.Version == version).Kind);
        Assert.True(models.Models.Single(m => m.Version == baseline).Fallback);
        // Users live on both silos: every one of them is served by the same version.
        foreach (var user in new[] { "1", "2", "3", "4", "5", "6" })
            Assert.Equal(version, (await second.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=5")).ModelVersion);

        using var rollback = await second.Http.PostAsync("/models/rollback", null);
        Assert.True(rollback.IsSuccessStatusCode, await rollback.Content.ReadAsStringAsync());
        await ServingChecks.WaitForVersion(second, "3", baseline);
        await second.StopAsync();
        Directory.Delete(root, recursive: true);
    }

    private sealed class Fixture(ClusterFixtureOptions options) : ClusterFixture(options), IAsyncDisposable
    {
        async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
    }
}

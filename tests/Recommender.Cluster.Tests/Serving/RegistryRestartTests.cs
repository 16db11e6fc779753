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
            // Trained on two items the catalogue does not hold: they are never recommended, before or after the restart.
            await TestPackages.UploadOk(first.Http, TestPackages.Transformer([.. Enumerable.Range(1, SmallCatalogue.Movies).Select(i => i.ToString()), "ghost-a", "ghost-b"], version));
            Assert.Equal(2, (await TestPackages.Activate(first.Http, version)).NotInCatalogue);
            var served = await first.GetJsonAsync<RecommendationsReply>($"/users/3/recommendations?k={SmallCatalogue.Movies}");
            Assert.Equal(version, served.ModelVersion);
            Assert.Equal("model", served.Source);
            AssertOnlyCatalogueItems(served);
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
        {
            var served = await second.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k={SmallCatalogue.Movies}");
            Assert.Equal(version, served.ModelVersion);
            AssertOnlyCatalogueItems(served);
        }

        using var rollback = await second.Http.PostAsync("/models/rollback", null);
        Assert.True(rollback.IsSuccessStatusCode, await rollback.Content.ReadAsStringAsync());
        await ServingChecks.WaitForVersion(second, "3", baseline);
        await second.StopAsync();
        Directory.Delete(root, recursive: true);
    }

    /// <summary>Every item is a catalogue movie with its title, and the list is long enough that a ghost would have made it.</summary>
    private static void AssertOnlyCatalogueItems(RecommendationsReply served)
    {
        Assert.True(served.Items.Count > SmallCatalogue.Movies / 2, $"only {served.Items.Count} items");
        foreach (var item in served.Items)
            Assert.StartsWith(SmallCatalogue.Title(int.Parse(item.Id, System.Globalization.CultureInfo.InvariantCulture)), item.Title);
    }

    private sealed class Fixture(ClusterFixtureOptions options) : ClusterFixture(options), IAsyncDisposable
    {
        async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
    }
}

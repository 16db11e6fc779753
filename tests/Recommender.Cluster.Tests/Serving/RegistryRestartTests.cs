using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Grains.Ranking;

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
        var deletedVersion = TestPackages.NewVersion("deleted");
        var deletedPackage = TestPackages.Baseline(Path.Combine(options.SeedSource!, "ratings.csv"), deletedVersion, 8);
        var leftOver = Path.Combine(options.DataDirectory!, "models", ".deleting-cut-short");
        var candidate = TestPackages.NewVersion("candidate");
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
            // A candidate beside it, for half the users, stays across the restart with the items written to it.
            var dimension = (await first.GetJsonAsync<ModelsReply>("/models")).Models.Single(m => m.Version == version).Dimension;
            await TestPackages.UploadOk(first.Http, TestPackages.Baseline(Path.Combine(options.SeedSource!, "ratings.csv"), candidate, dimension));
            using (var started = await first.Http.PostAsync($"/models/{candidate}/candidate?share=0.5", null))
                Assert.True(started.IsSuccessStatusCode, await started.Content.ReadAsStringAsync());
            // Expiries are kept: one passed before the restart, one that passes during it or just after.
            await PutItem(first, "kept", dimension, null);
            await PutItem(first, "expired", dimension, DateTimeOffset.UtcNow.AddHours(-1));
            await PutItem(first, "expiring", dimension, DateTimeOffset.UtcNow.AddSeconds(6));
            Assert.Equal(["expiring", "kept"], (await TaggedIds(first)).Order());
            // Deleted items, one added and one trained, stay out of both versions' shards.
            await PutItem(first, "deleted", dimension, null);
            foreach (var id in new[] { "deleted", DeletedMovie })
                using (var deleted = await first.Http.DeleteAsync($"/items/{id}"))
                    Assert.True(deleted.IsSuccessStatusCode, await deleted.Content.ReadAsStringAsync());
            // A deleted version stays deleted, and the files of a deletion cut short are removed at the next start.
            await TestPackages.UploadOk(first.Http, deletedPackage);
            using (var deleted = await first.Http.DeleteAsync($"/models/{deletedVersion}"))
                Assert.True(deleted.IsSuccessStatusCode, await deleted.Content.ReadAsStringAsync());
            Directory.CreateDirectory(leftOver);
            await File.WriteAllTextAsync(Path.Combine(leftOver, "manifest.json"), "{}");
            await first.StopAsync();
        }

        await using var second = new Fixture(options with { ReadyTimeout = TimeSpan.FromSeconds(30) });
        await second.StartAsync();
        var models = await second.GetJsonAsync<ModelsReply>("/models");
        Assert.Equal(version, models.Active);
        Assert.Equal((candidate, 0.5), (models.Candidate, models.CandidateShare));
        Assert.Equal("sasrec", models.Models.Single(m => m.Version == version).Kind);
        Assert.True(models.Models.Single(m => m.Version == baseline).Fallback);
        Assert.DoesNotContain(models.Models, m => m.Version == deletedVersion);
        Assert.False(Directory.Exists(leftOver));
        using (var again = await TestPackages.Upload(second.Http, deletedPackage))
            Assert.Equal(System.Net.HttpStatusCode.Conflict, again.StatusCode);
        // Users live on both silos, and each is served by the version drawn for it: the active one or the candidate.
        var users = Enumerable.Range(1, 12).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Contains(users, u => ServingModel.Draw(candidate, u) < 0.5);
        Assert.Contains(users, u => ServingModel.Draw(candidate, u) >= 0.5);
        // The item that expired before the restart stays out; the one expiring about then leaves within seconds, from
        // both versions' shards.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        async Task<bool> OnlyKept() => (await Task.WhenAll(users.Select(u => TaggedIds(second, u)))).All(ids => ids.SequenceEqual(["kept"]));
        while (!await OnlyKept() && DateTime.UtcNow < deadline) await Task.Delay(100);
        foreach (var user in users) Assert.Equal(["kept"], await TaggedIds(second, user));
        foreach (var user in users)
        {
            var served = await second.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k={SmallCatalogue.Movies}");
            Assert.Equal(ServingModel.Draw(candidate, user) < 0.5 ? candidate : version, served.ModelVersion);
            AssertOnlyCatalogueItems(served);
            Assert.DoesNotContain(served.Items, i => i.Id == DeletedMovie);
        }
        using (var gone = await second.Http.GetAsync($"/items/{DeletedMovie}"))
            Assert.Equal(System.Net.HttpStatusCode.NotFound, gone.StatusCode);

        using var rollback = await second.Http.PostAsync("/models/rollback", null);
        Assert.True(rollback.IsSuccessStatusCode, await rollback.Content.ReadAsStringAsync());
        await ServingChecks.WaitForVersion(second, "3", baseline);
        await second.StopAsync();
        Directory.Delete(root, recursive: true);
    }

    private const string ExpiryTag = "expiry-across-restart";

    private const string DeletedMovie = "4";

    private static async Task PutItem(Fixture cluster, string id, int dimension, DateTimeOffset? expiresAt)
    {
        var embedding = Enumerable.Range(0, dimension).Select(i => (float)Math.Sin(i + id.Length)).ToArray();
        object body = expiresAt is { } at ? new { title = id, tags = new[] { ExpiryTag }, embedding, expiresAt = at } : new { title = id, tags = new[] { ExpiryTag }, embedding };
        using var response = await cluster.Http.PutAsJsonAsync($"/items/{id}", body);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<string[]> TaggedIds(Fixture cluster, string user = "3") =>
        (await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=10&tag={ExpiryTag}")).Items.Select(i => i.Id).ToArray();

    /// <summary>
    /// Every item is a catalogue movie with its title (or the item without an expiry the test added), and the list is
    /// long enough that a ghost would have made it.
    /// </summary>
    private static void AssertOnlyCatalogueItems(RecommendationsReply served)
    {
        Assert.True(served.Items.Count > SmallCatalogue.Movies / 2, $"only {served.Items.Count} items");
        foreach (var item in served.Items.Where(i => i.Id != "kept"))
            Assert.StartsWith(SmallCatalogue.Title(int.Parse(item.Id, System.Globalization.CultureInfo.InvariantCulture)), item.Title);
    }

    private sealed class Fixture(ClusterFixtureOptions options) : ClusterFixture(options), IAsyncDisposable
    {
        async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
    }
}

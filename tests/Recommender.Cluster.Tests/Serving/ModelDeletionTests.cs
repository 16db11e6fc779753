using System.Net;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>DELETE /models/{version}: what serves or may still serve stays; what goes takes its package and rows with it, and its name.</summary>
[Collection(ServingCollection.Name)]
public sealed class ModelDeletionTests(ServingCluster cluster)
{
    private string ModelsDirectory => Path.Combine(cluster.DataDirectory, "models");

    private long StoredRows(string version) => ServingChecks.StoredRows(cluster.DataDirectory, version);

    private async Task<ProblemReply> Refused(string version, HttpStatusCode status)
    {
        using var response = await cluster.Http.DeleteAsync($"/models/{version}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"DELETE /models/{version} answered {(int)response.StatusCode}: {body}");
        return (await response.Content.ReadFromJsonAsync<ProblemReply>())!;
    }

    [Fact]
    public async Task A_version_that_no_longer_serves_is_deleted_with_its_package_and_rows_and_its_name_is_not_registered_again()
    {
        var before = await cluster.GetJsonAsync<ModelsReply>("/models");
        var served = before.Active!;
        var old = TestPackages.NewVersion("deleted");
        var next = TestPackages.NewVersion("next");
        var oldPackage = TestPackages.Baseline(cluster.Ratings, old, 16);
        await TestPackages.UploadOk(cluster.Http, oldPackage);
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, next, 16));

        Assert.Contains("not registered", (await Refused("no-such-version", HttpStatusCode.NotFound)).Errors!["version"][0]);
        using (var withBody = await cluster.Http.SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"/models/{old}") { Content = JsonContent.Create(new { force = true }) }))
            Assert.Equal(HttpStatusCode.BadRequest, withBody.StatusCode);

        await TestPackages.Activate(cluster.Http, old);
        await ServingChecks.WaitForVersion(cluster, "4", old);
        Assert.Contains("is the active version", (await Refused(old, HttpStatusCode.Conflict)).Errors!["version"][0]);
        Assert.True(StoredRows(old) > 0, "the active version's shards keep their entries in rows");
        Assert.True(ServingChecks.StoredShardStates(cluster.DataDirectory, old) > 0, "the active version's shards keep a grain state");
        Assert.All(cluster.Registries, registry => Assert.Contains(old, registry.Loaded));

        // Retired: requests that read the pointer just before may still use its shards for the retire grace (2 s here).
        await TestPackages.Activate(cluster.Http, next);
        var listed = await cluster.GetJsonAsync<ModelsReply>("/models");
        Assert.Equal(old, listed.RollbackTarget);
        Assert.NotNull(listed.Models.Single(m => m.Version == old).RetiredAt);
        Assert.Contains("was retired at", (await Refused(old, HttpStatusCode.Conflict)).Errors!["version"][0]);
        Assert.True(Directory.Exists(Path.Combine(ModelsDirectory, old)));

        await Task.Delay(TimeSpan.FromSeconds(2));
        using (var deleted = await cluster.Http.DeleteAsync($"/models/{old}"))
            Assert.True(deleted.StatusCode == HttpStatusCode.NoContent, await deleted.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await cluster.Http.GetAsync($"/models/{old}")).StatusCode);
        var after = await cluster.GetJsonAsync<ModelsReply>("/models");
        Assert.DoesNotContain(after.Models, m => m.Version == old);
        // A rollback now goes to the version active before the deleted one.
        Assert.Equal((next, served), (after.Active, after.RollbackTarget));
        Assert.False(Directory.Exists(Path.Combine(ModelsDirectory, old)));
        Assert.Empty(Directory.GetDirectories(ModelsDirectory, ".deleting-*"));
        Assert.Equal(0, StoredRows(old));
        Assert.Equal(0, ServingChecks.StoredShardStates(cluster.DataDirectory, old));
        Assert.True(ServingChecks.StoredShardStates(cluster.DataDirectory, next) > 0, "only the deleted version's shard states go");
        Assert.Contains("not registered", (await Refused(old, HttpStatusCode.NotFound)).Errors!["version"][0]);
        Assert.Equal(HttpStatusCode.NotFound, (await cluster.Http.PostAsync($"/models/{old}/activate", null)).StatusCode);
        // Every silo lets the deleted version's vectors go once it has been idle for the grace, sessions or not.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (cluster.Registries.Any(registry => registry.Loaded.Contains(old)) && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.All(cluster.Registries, registry => Assert.DoesNotContain(old, registry.Loaded));

        // The same package under the deleted name: refused, nothing stored.
        using (var again = await TestPackages.Upload(cluster.Http, oldPackage))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            Assert.Contains("was deleted", (await again.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!["version"][0]);
        }
        Assert.False(Directory.Exists(Path.Combine(ModelsDirectory, old)));

        using var rollback = await cluster.Http.PostAsync("/models/rollback", null);
        Assert.True(rollback.IsSuccessStatusCode, await rollback.Content.ReadAsStringAsync());
        Assert.Equal(served, (await rollback.Content.ReadFromJsonAsync<ActivationReply>())!.Active);
        await ServingChecks.WaitForVersion(cluster, "4", served);
        // Serving again, it is no longer marked retired.
        Assert.Null((await cluster.GetJsonAsync<ModelReply>($"/models/{served}")).RetiredAt);
    }
}

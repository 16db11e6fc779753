using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Concurrency;
using Orleans.Hosting;
using Orleans.TestingHost;
using Recommender.Abstractions;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Grains;
using Recommender.Grains.Items;
using Recommender.Hosting;
using Recommender.Hosting.Sql;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// The production row store with a brake: writes to owners under a held prefix wait until the test releases them, so
/// that a test can keep an activation in the middle of building its shards for as long as it needs; writes to owners
/// under a failing prefix fail as they do while PostgreSQL is down; the next write under a stalled prefix is slow.
/// </summary>
public sealed class HeldRowStore(AdoNetGrainRowStore inner) : IGrainRowStore
{
    public sealed class Hold
    {
        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    // Static: the cluster's silos run in this process, and each has a store of its own.
    private static readonly ConcurrentDictionary<string, Hold> Holds = new(StringComparer.Ordinal);

    private static readonly ConcurrentDictionary<string, bool> Failing = new(StringComparer.Ordinal);

    public static Hold HoldWrites(string ownerPrefix) => Holds[ownerPrefix] = new Hold();

    public static void FailWrites(string ownerPrefix) => Failing[ownerPrefix] = true;

    private static readonly ConcurrentDictionary<string, bool> LosingAcknowledgements = new(StringComparer.Ordinal);

    private static readonly ConcurrentDictionary<string, bool> FailingReads = new(StringComparer.Ordinal);

    /// <summary>Writes are stored and then fail, as when the connection breaks just after the database committed.</summary>
    public static void LoseAcknowledgements(string ownerPrefix) => LosingAcknowledgements[ownerPrefix] = true;

    public static void FailReads(string ownerPrefix) => FailingReads[ownerPrefix] = true;

    private static readonly ConcurrentDictionary<string, (TimeSpan Delay, TaskCompletionSource Stored)> Stalls = new(StringComparer.Ordinal);

    /// <summary>
    /// The next write to an owner under the prefix waits <paramref name="delay"/> before it is stored; later ones do
    /// not. The task completes once the held write is stored.
    /// </summary>
    public static Task StallNextWrite(string ownerPrefix, TimeSpan delay)
    {
        var stored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Stalls[ownerPrefix] = (delay, stored);
        return stored.Task;
    }

    public static void StopFailing(string ownerPrefix)
    {
        Failing.TryRemove(ownerPrefix, out _);
        LosingAcknowledgements.TryRemove(ownerPrefix, out _);
        FailingReads.TryRemove(ownerPrefix, out _);
    }

    private static bool Matches(ConcurrentDictionary<string, bool> prefixes, string owner) =>
        prefixes.Keys.Any(prefix => owner.StartsWith(prefix, StringComparison.Ordinal));

    public static void Release(string ownerPrefix)
    {
        if (Holds.TryRemove(ownerPrefix, out var hold)) hold.Released.TrySetResult();
    }

    public Task<IReadOnlyList<KeyValuePair<string, T>>> ReadAsync<T>(string owner, CancellationToken cancellation = default) =>
        Matches(FailingReads, owner)
            ? throw new StorageUnavailableException($"Reading rows of '{owner}' failed: the database is unavailable.")
            : inner.ReadAsync<T>(owner, cancellation);

    public async Task WriteAsync<T>(string owner, IReadOnlyList<KeyValuePair<string, T>> rows, bool replaceAll = false, CancellationToken cancellation = default)
    {
        if (Matches(Failing, owner))
            throw new StorageUnavailableException($"Writing rows of '{owner}' failed: the database is unavailable.");
        TaskCompletionSource? stalled = null;
        foreach (var prefix in Stalls.Keys.Where(prefix => owner.StartsWith(prefix, StringComparison.Ordinal)))
            if (Stalls.TryRemove(prefix, out var stall))
            {
                await Task.Delay(stall.Delay, CancellationToken.None);
                stalled = stall.Stored;
            }
        foreach (var (prefix, hold) in Holds)
        {
            if (!owner.StartsWith(prefix, StringComparison.Ordinal)) continue;
            hold.Reached.TrySetResult();
            await hold.Released.Task;
        }
        await inner.WriteAsync(owner, rows, replaceAll, cancellation);
        stalled?.TrySetResult();
        if (Matches(LosingAcknowledgements, owner))
            throw new StorageUnavailableException($"The connection broke after writing rows of '{owner}'.", mayHaveBeenWritten: true);
    }

    public Task DeleteAsync(string owner, IReadOnlyList<string> keys, CancellationToken cancellation = default) =>
        inner.DeleteAsync(owner, keys, cancellation);

    public Task<int> DeleteOwnersAsync(string ownerPrefix, CancellationToken cancellation = default) =>
        Matches(Failing, ownerPrefix)
            ? throw new StorageUnavailableException($"Deleting rows under '{ownerPrefix}' failed: the database is unavailable.")
            : inner.DeleteOwnersAsync(ownerPrefix, cancellation);

    public sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.ConfigureServices(services =>
        {
            services.AddSingleton<AdoNetGrainRowStore>();
            services.AddSingleton<IGrainRowStore, HeldRowStore>();
        });
    }
}

/// <summary>A cluster of its own whose row writes a test can hold (<see cref="HeldRowStore"/>).</summary>
public sealed class HeldActivationCluster() : ClusterFixture(ClusterFixtureOptions.ForSmallCatalogue("held-activation") with { Settings = ServingCluster.FastRefresh })
{
    public string Ratings => Path.Combine(Options.SeedSource!, "ratings.csv");

    protected override void ConfigureSilos(TestClusterBuilder builder) => builder.AddSiloBuilderConfigurator<HeldRowStore.Configurator>();
}

/// <summary>
/// Item writes go on while a model version is activated: they are answered under the active version at once, and the
/// new version, once active, holds them as well.
/// </summary>
public sealed class ActivationWriteTests(HeldActivationCluster cluster) : IClassFixture<HeldActivationCluster>
{
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(15);

    private async Task<ItemReply> Put(string itemId, object body)
    {
        using var response = await cluster.Http.PutAsJsonAsync($"/items/{itemId}", body).WaitAsync(Prompt);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ItemReply>())!;
    }

    [Fact]
    public async Task Items_written_while_the_shards_are_built_are_answered_at_once_and_held_by_the_new_version()
    {
        var before = (await cluster.Cluster.Client.GetGrain<ICatalogueGrain>(0).GetSnapshot()).Model!;
        var version = TestPackages.NewVersion("held");
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, version, before.Dimension));
        var prefix = ItemShardGrain.EntriesOwner(version + "/");
        var hold = HeldRowStore.HoldWrites(prefix);
        try
        {
            var activation = TestPackages.Activate(cluster.Http, version);
            await hold.Reached.Task.WaitAsync(TimeSpan.FromSeconds(60));

            // The new version's shards are being built and cannot finish: the writes must not wait for them.
            var newId = "held-new-" + Guid.NewGuid().ToString("N")[..8];
            var random = new Random(5);
            var embedding = Enumerable.Range(0, before.Dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            var added = await Put(newId, new { title = "Written during an activation", embedding });
            var retitled = await Put("7", new { title = "Retitled during an activation" });
            Assert.False(activation.IsCompleted, "the activation finished while its shard writes were held");
            Assert.Equal(before.Version, added.Placement?.ModelVersion);
            Assert.Equal(before.Version, retitled.Placement?.ModelVersion);

            HeldRowStore.Release(prefix);
            var result = await activation.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(version, result.Active);

            // Under the new version the added item has a row of its own and the retitled one its new title.
            var addedNow = await cluster.GetJsonAsync<ItemReply>($"/items/{newId}");
            Assert.Equal(version, addedNow.Placement?.ModelVersion);
            Assert.Null(addedNow.Placement!.DenseId);
            var similar = await cluster.GetJsonAsync<SimilarReply>($"/items/{newId}/similar?k=3");
            Assert.Equal(version, similar.ModelVersion);
            Assert.Equal(3, similar.Items.Count);

            var retitledNow = await cluster.GetJsonAsync<ItemReply>("/items/7");
            Assert.Equal(version, retitledNow.Placement?.ModelVersion);
            var shard = cluster.Cluster.Client.GetGrain<IItemShardGrain>(new ShardKey(version, retitledNow.Placement!.Shard, result.Shards).ToString());
            var vectors = await shard.GetVectors(new Immutable<string[]>(["7", newId]));
            Assert.Contains("Retitled during an activation", vectors.Titles);
            var addedShard = cluster.Cluster.Client.GetGrain<IItemShardGrain>(new ShardKey(version, addedNow.Placement.Shard, result.Shards).ToString());
            // The vector the new version scores is the one the old version was given.
            var oldShard = cluster.Cluster.Client.GetGrain<IItemShardGrain>(new ShardKey(before.Version, added.Placement!.Shard, before.Shards).ToString());
            var given = await oldShard.GetVector(newId);
            var held = await addedShard.GetVector(newId);
            Assert.NotNull(given);
            Assert.NotNull(held);
            Assert.Equal(given.Value.Value, held.Value.Value);
        }
        finally
        {
            HeldRowStore.Release(prefix);
        }
    }

    [Fact]
    public async Task Items_deleted_while_the_shards_are_built_are_not_in_the_new_version_unless_written_again()
    {
        var before = (await cluster.Cluster.Client.GetGrain<ICatalogueGrain>(0).GetSnapshot()).Model!;
        var random = new Random(7);
        var embedding = Enumerable.Range(0, before.Dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var (gone, back) = ("held-gone-" + Guid.NewGuid().ToString("N")[..8], "held-back-" + Guid.NewGuid().ToString("N")[..8]);
        await Put(gone, new { title = "Deleted during an activation", embedding });
        await Put(back, new { title = "Deleted and written again during an activation", embedding });
        var trained = await cluster.GetJsonAsync<ItemReply>("/items/9");
        var version = TestPackages.NewVersion("held-deleted");
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, version, before.Dimension));
        var prefix = ItemShardGrain.EntriesOwner(version + "/");
        var hold = HeldRowStore.HoldWrites(prefix);
        try
        {
            var activation = TestPackages.Activate(cluster.Http, version);
            await hold.Reached.Task.WaitAsync(TimeSpan.FromSeconds(60));
            // The new version's shards were planned with all three items; the deletions come after.
            foreach (var id in new[] { gone, "9", back })
                using (var deleted = await cluster.Http.DeleteAsync($"/items/{id}").WaitAsync(Prompt))
                    Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            await Put(back, new { title = "Written again", embedding });
            Assert.False(activation.IsCompleted, "the activation finished while its shard writes were held");

            HeldRowStore.Release(prefix);
            Assert.Equal(version, (await activation.WaitAsync(TimeSpan.FromSeconds(60))).Active);
            var pinned = await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=5&pin={gone}:1&pin=9:2&pin={back}:3");
            Assert.Equal(version, pinned.ModelVersion);
            Assert.Equal([new(gone, 1, "unknown"), new("9", 2, "unknown")], pinned.UnplacedPins!);
            Assert.Equal(back, pinned.Items[2].Id);
            Assert.Equal("Written again", pinned.Items[2].Title);
            Assert.Equal(version, (await cluster.GetJsonAsync<ItemReply>($"/items/{back}")).Placement?.ModelVersion);
        }
        finally
        {
            HeldRowStore.Release(prefix);
            await Put("9", new { title = trained.Title, text = trained.Text, tags = trained.Tags });
            using (await cluster.Http.DeleteAsync($"/items/{back}")) { }
        }
    }

    [Fact]
    public async Task A_second_activation_waits_for_the_first_while_registrations_go_on()
    {
        var dimension = (await cluster.Cluster.Client.GetGrain<ICatalogueGrain>(0).GetSnapshot()).Model!.Dimension;
        var first = TestPackages.NewVersion("first");
        var second = TestPackages.NewVersion("second");
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, first, dimension));
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, second, dimension));
        var prefix = ItemShardGrain.EntriesOwner(first + "/");
        var hold = HeldRowStore.HoldWrites(prefix);
        try
        {
            var activatingFirst = TestPackages.Activate(cluster.Http, first);
            await hold.Reached.Task.WaitAsync(TimeSpan.FromSeconds(60));
            var activatingSecond = TestPackages.Activate(cluster.Http, second);

            // A registration is answered while the first activation is held; the second activation is not.
            var third = TestPackages.NewVersion("third");
            await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, third, dimension)).WaitAsync(Prompt);
            var models = (await cluster.GetJsonAsync<ModelsReply>("/models").WaitAsync(Prompt)).Models;
            Assert.Equal("activating", models.Single(m => m.Version == first).State);
            Assert.Equal("registered", models.Single(m => m.Version == third).State);
            // No version is deleted beside an activation, which may be building its shards or about to retire it.
            foreach (var version in new[] { third, first })
                using (var deleting = await cluster.Http.DeleteAsync($"/models/{version}").WaitAsync(Prompt))
                {
                    Assert.Equal(HttpStatusCode.Conflict, deleting.StatusCode);
                    Assert.Contains("An activation is under way", (await deleting.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!["version"][0]);
                }
            await Task.Delay(500);
            Assert.False(activatingFirst.IsCompleted || activatingSecond.IsCompleted, "an activation finished while the first one's shard writes were held");

            HeldRowStore.Release(prefix);
            var one = await activatingFirst.WaitAsync(TimeSpan.FromSeconds(60));
            var two = await activatingSecond.WaitAsync(TimeSpan.FromSeconds(60));
            // One after the other: the second replaced the first, and a rollback goes back to it.
            Assert.Equal(first, one.Active);
            Assert.Equal((second, first), (two.Active, two.Previous));
            models = (await cluster.GetJsonAsync<ModelsReply>("/models")).Models;
            Assert.Equal("active", models.Single(m => m.Version == second).State);
            Assert.Equal("retired", models.Single(m => m.Version == first).State);
            using (var deleted = await cluster.Http.DeleteAsync($"/models/{third}"))
                Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

            // Once the retire grace (2 s) has passed: deleted even when its shards' rows cannot be removed now, which
            // costs their space, not the deletion.
            await Task.Delay(TimeSpan.FromSeconds(2));
            var rows = ServingChecks.StoredRows(cluster.DataDirectory, first);
            Assert.True(rows > 0);
            HeldRowStore.FailWrites(prefix);
            using (var deleted = await cluster.Http.DeleteAsync($"/models/{first}"))
                Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await cluster.Http.GetAsync($"/models/{first}")).StatusCode);
            Assert.False(Directory.Exists(Path.Combine(cluster.DataDirectory, "models", first)));
            Assert.Empty(Directory.GetDirectories(Path.Combine(cluster.DataDirectory, "models"), ".deleting-*"));
            Assert.Equal(rows, ServingChecks.StoredRows(cluster.DataDirectory, first));
        }
        finally
        {
            HeldRowStore.StopFailing(prefix);
            HeldRowStore.Release(prefix);
        }
    }
}

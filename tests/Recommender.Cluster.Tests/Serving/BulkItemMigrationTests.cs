using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;
using Recommender.Abstractions;
using Recommender.Cluster.Tests.Api;
using Recommender.Grains.Items;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>Buckets that earlier releases stored whole, in one grain-state row each, are copied to one row per item on their first call.</summary>
[Collection(ServingCollection.Name)]
public sealed class BulkItemMigrationTests(ServingCluster cluster)
{
    private const string LegacyStateName = ItemBucketGrain.LegacyStateName;

    [Fact]
    public async Task A_bucket_stored_whole_serves_its_items_from_rows_of_their_own_after_its_next_activation_and_keeps_the_old_state_for_a_rollback()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var bucket = ItemBuckets.Of($"legacy-{tag}-0");
        var ids = Enumerable.Range(0, 1000).Select(i => $"legacy-{tag}-{i}").Where(id => ItemBuckets.Of(id) == bucket).Take(3).ToArray();
        var importedAt = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(17);
        var legacy = new ItemBucketState();
        for (var i = 0; i < ids.Length; i++)
            legacy.Items[ids[i]] = new ItemDetails(ids[i], $"Old title {i}", null, ["old"], Hidden: i == 2);
        // The first has an import time; the others were written before import times were kept.
        legacy.ImportedAt[ids[0]] = importedAt;

        var silo = (InProcessSiloHandle)cluster.Cluster.Primary!;
        var storage = silo.SiloHost.Services.GetRequiredKeyedService<IGrainStorage>(Orleans.Providers.ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME);
        var grain = cluster.Cluster.Client.GetGrain<IItemBucketGrain>(bucket);
        var state = new GrainState<ItemBucketState>(new ItemBucketState());
        await storage.ReadStateAsync(LegacyStateName, grain.GetGrainId(), state);
        state.State = legacy;
        await storage.WriteStateAsync(LegacyStateName, grain.GetGrainId(), state);
        // The bucket may be active already (other tests' items hash to it too): the next call activates it afresh.
        await grain.AsReference<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();

        for (var i = 0; i < ids.Length; i++)
        {
            var item = await cluster.GetJsonAsync<ItemReply>($"/items/{ids[i]}");
            Assert.Equal($"Old title {i}", item.Title);
            Assert.Equal(i == 2, item.Hidden);
        }
        // Events naming them are accepted: the bucket knows its ids without reading the rows.
        await ServingChecks.Post(cluster.Http, new { userId = $"u-{tag}", itemId = ids[1], type = "view", timestamp = ServingChecks.Now() });

        var rows = await silo.SiloHost.Services.GetRequiredService<IBulkItemStore>().FindAsync(ids);
        Assert.Equal(ids.Order(), rows.Keys.Order());
        Assert.Equal(importedAt, rows[ids[0]].ImportedAt);
        Assert.Equal(DateTimeOffset.MinValue, rows[ids[1]].ImportedAt);
        // The old state stays, for a rollback to the release that wrote it, marked as copied.
        var after = new GrainState<ItemBucketState>(new ItemBucketState());
        await storage.ReadStateAsync(LegacyStateName, grain.GetGrainId(), after);
        Assert.NotNull(after.State);
        Assert.True(after.State.Copied);
        Assert.Equal(ids.Order(), after.State.Items.Keys.Order());

        // A later bulk write of one of them replaces its row, and the bucket's next activation does not copy the old
        // state over it again.
        using var response = await cluster.Http.PostAsJsonAsync("/items", new[] { new { id = ids[0], title = "New title" } });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        await grain.AsReference<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();
        Assert.Equal("New title", (await cluster.GetJsonAsync<ItemReply>($"/items/{ids[0]}")).Title);
        Assert.Equal("Old title 1", (await cluster.GetJsonAsync<ItemReply>($"/items/{ids[1]}")).Title);
        Assert.True((await silo.SiloHost.Services.GetRequiredService<IBulkItemStore>().FindAsync([ids[0]]))[ids[0]].ImportedAt > importedAt);
    }
}

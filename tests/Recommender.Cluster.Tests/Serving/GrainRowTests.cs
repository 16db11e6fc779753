using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Concurrency;
using Orleans.Storage;
using Recommender.Grains.Users;
using Recommender.Hosting.Sql;
using Recommender.Hosting;
using Microsoft.Extensions.Options;
using Orleans.TestingHost;
using Recommender.Abstractions;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Grains;
using Recommender.Grains.Catalogue;
using Recommender.Grains.Items;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>A cluster of its own: the tests rewrite the catalogue's and the shards' stored state.</summary>
public sealed class GrainRowCluster() : ClusterFixture(ClusterFixtureOptions.ForSmallCatalogue("grain-rows") with { Settings = ServingCluster.FastRefresh });

/// <summary>
/// What grows with the catalogue (a shard's entries, the catalogue's placements of added items and its text items) is
/// stored a row per item, not in the grains' states; states that earlier releases wrote whole are copied into rows on
/// their grain's next activation, and kept as they were for a rollback.
/// </summary>
public sealed class GrainRowTests(GrainRowCluster cluster) : IClassFixture<GrainRowCluster>
{
    private InProcessSiloHandle Silo => (InProcessSiloHandle)cluster.Cluster.Primary!;

    private IGrainStorage Storage => Silo.SiloHost.Services.GetRequiredKeyedService<IGrainStorage>(Orleans.Providers.ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME);

    private IGrainRowStore Rows => Silo.SiloHost.Services.GetRequiredService<IGrainRowStore>();

    private ICatalogueGrain Catalogue => cluster.Cluster.Client.GetGrain<ICatalogueGrain>(0);

    private async Task<ActiveModel> ActiveModel() => (await Catalogue.GetSnapshot()).Model!;

    private IItemShardGrain Shard(ActiveModel model, int index) =>
        cluster.Cluster.Client.GetGrain<IItemShardGrain>(new ShardKey(model.Version, index, model.Shards).ToString());

    private async Task<GrainState<T>> Stored<T>(string name, IAddressable grain) where T : new()
    {
        var state = new GrainState<T>(new T());
        await Storage.ReadStateAsync(name, grain.GetGrainId(), state);
        return state;
    }

    private async Task<ItemReply[]> Put(string prefix, int count, bool embedding)
    {
        var dimension = (await ActiveModel()).Dimension;
        var items = new ItemReply[count];
        for (var i = 0; i < count; i++)
        {
            var random = new Random(i);
            object body = embedding
                ? new { title = $"{prefix} {i}", embedding = Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray() }
                : new { title = $"{prefix} {i}", text = $"A quiet drama about {prefix} number {i}" };
            using var response = await cluster.Http.PutAsJsonAsync($"/items/{prefix}-{i}", body);
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            items[i] = (await response.Content.ReadFromJsonAsync<ItemReply>())!;
        }
        return items;
    }

    private async Task<string[]> Similar(string itemId) =>
        (await cluster.GetJsonAsync<SimilarReply>($"/items/{itemId}/similar?k=5")).Items.Select(i => i.Id).ToArray();

    private static async Task Deactivate(IAddressable grain) =>
        await grain.AsReference<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();

    [Fact]
    public async Task Placing_items_writes_one_row_each_and_leaves_the_catalogue_and_shard_states_without_them()
    {
        var prefix = "rows-" + Guid.NewGuid().ToString("N")[..8];
        var placed = await Put(prefix, 12, embedding: true);
        var text = await Put(prefix + "-text", 3, embedding: false);
        var model = await ActiveModel();
        var neighbours = new Dictionary<string, string[]>();
        foreach (var item in placed) neighbours[item.Id] = await Similar(item.Id);

        var added = (await Rows.ReadAsync<AddedPlacement>(CatalogueGrain.AddedOwner(model))).ToDictionary();
        foreach (var item in placed)
        {
            Assert.NotNull(item.Placement);
            Assert.Equal(new AddedPlacement(item.Placement.Shard, item.Placement.Row), added[item.Id]);
        }
        Assert.Equal(placed.Length, placed.Select(i => (i.Placement!.Shard, i.Placement.Row)).Distinct().Count());
        var textItems = (await Rows.ReadAsync<bool>(CatalogueGrain.TextItemsOwner)).Select(r => r.Key).ToHashSet();
        // A title is text too: every item written has a text vector.
        Assert.Superset(placed.Concat(text).Select(i => i.Id).ToHashSet(), textItems);

        for (var shard = 0; shard < model.Shards; shard++)
        {
            var entries = (await Rows.ReadAsync<ShardEntry>(ItemShardGrain.EntriesOwner(new ShardKey(model.Version, shard, model.Shards).ToString()))).ToDictionary();
            foreach (var item in placed.Where(i => i.Placement!.Shard == shard))
            {
                Assert.Equal(item.Title, entries[item.Id].Title);
                Assert.Equal(model.Dimension * sizeof(float), entries[item.Id].Vector!.Length);
            }
            var state = await Stored<ShardState>("shard", Shard(model, shard));
            Assert.True(state.State!.EntriesInRows);
            Assert.True(state.State.ListsCatalogue);
            Assert.Empty(state.State.Entries);
        }
        var catalogue = await Stored<CatalogueState>("catalogue", Catalogue);
        Assert.True(catalogue.State!.RowsCopied);
        Assert.Empty(catalogue.State.Added);
        Assert.Empty(catalogue.State.TextItems);

        // Rows are read back on activation: the items keep their placements and their vectors.
        for (var shard = 0; shard < model.Shards; shard++) await Deactivate(Shard(model, shard));
        await Deactivate(Catalogue);
        foreach (var item in placed)
        {
            var again = await cluster.GetJsonAsync<ItemReply>($"/items/{item.Id}");
            Assert.Equal((item.Placement!.Shard, item.Placement.Row), (again.Placement!.Shard, again.Placement.Row));
            Assert.Equal(neighbours[item.Id], await Similar(item.Id));
        }
    }

    [Fact]
    public async Task States_written_whole_by_an_earlier_release_are_copied_into_rows_on_activation_and_kept_for_a_rollback()
    {
        // Other tests of this class hide and show items, and a silo reuses its copy of the hidden set for the cache
        // lifetime (200 ms here): let every copy catch up, or the neighbours taken now may still leave out an item
        // that is shown again.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var prefix = "legacy-" + Guid.NewGuid().ToString("N")[..8];
        var placed = await Put(prefix, 6, embedding: true);
        var text = await Put(prefix + "-text", 2, embedding: false);
        var neighbours = new Dictionary<string, string[]>();
        foreach (var item in placed) neighbours[item.Id] = await Similar(item.Id);
        var model = await ActiveModel();

        // Rewrite the stored state as an earlier release kept it: every entry, placement and text item in the grain
        // states, and no rows. The grains are then deactivated, so that their next activation reads what is stored.
        var addedOwner = CatalogueGrain.AddedOwner(model);
        var placements = (await Rows.ReadAsync<AddedPlacement>(addedOwner)).ToDictionary();
        var textItems = (await Rows.ReadAsync<bool>(CatalogueGrain.TextItemsOwner)).Select(r => r.Key).ToHashSet();
        var catalogue = await Stored<CatalogueState>("catalogue", Catalogue);
        catalogue.State!.Added = new(placements, StringComparer.Ordinal);
        catalogue.State.TextItems = new(textItems, StringComparer.Ordinal);
        catalogue.State.RowsCopied = false;
        var shardEntries = new List<ShardEntry>[model.Shards];
        for (var shard = 0; shard < model.Shards; shard++)
        {
            var owner = ItemShardGrain.EntriesOwner(new ShardKey(model.Version, shard, model.Shards).ToString());
            shardEntries[shard] = [.. (await Rows.ReadAsync<ShardEntry>(owner)).Select(r => r.Value)];
            var state = await Stored<ShardState>("shard", Shard(model, shard));
            state.State = new ShardState { Entries = shardEntries[shard], ListsCatalogue = true };
            await Storage.WriteStateAsync("shard", Shard(model, shard).GetGrainId(), state);
            await Rows.WriteAsync<ShardEntry>(owner, [], replaceAll: true);
            await Deactivate(Shard(model, shard));
        }
        await Storage.WriteStateAsync("catalogue", Catalogue.GetGrainId(), catalogue);
        await Rows.WriteAsync<AddedPlacement>(addedOwner, [], replaceAll: true);
        await Rows.WriteAsync<bool>(CatalogueGrain.TextItemsOwner, [], replaceAll: true);
        await Deactivate(Catalogue);

        // Served as before: each item at its place, with its vector, and the same neighbours.
        foreach (var item in placed)
        {
            var again = await cluster.GetJsonAsync<ItemReply>($"/items/{item.Id}");
            Assert.True(again.Recommendable);
            Assert.Equal((item.Placement!.Shard, item.Placement.Row), (again.Placement!.Shard, again.Placement.Row));
            Assert.Equal(neighbours[item.Id], await Similar(item.Id));
        }
        // The rows are back, and the old states stay as they were, marked as copied.
        Assert.Equal(placements.OrderBy(p => p.Key), (await Rows.ReadAsync<AddedPlacement>(addedOwner)).OrderBy(p => p.Key));
        Assert.Equal(textItems.Order(), (await Rows.ReadAsync<bool>(CatalogueGrain.TextItemsOwner)).Select(r => r.Key).Order());
        Assert.Superset(text.Select(i => i.Id).ToHashSet(), textItems);
        var after = await Stored<CatalogueState>("catalogue", Catalogue);
        Assert.True(after.State!.RowsCopied);
        Assert.Equal(placements.OrderBy(p => p.Key), after.State.Added.OrderBy(p => p.Key));
        for (var shard = 0; shard < model.Shards; shard++)
        {
            var owner = ItemShardGrain.EntriesOwner(new ShardKey(model.Version, shard, model.Shards).ToString());
            Assert.Equal(shardEntries[shard].Select(e => e.ItemId), (await Rows.ReadAsync<ShardEntry>(owner)).Select(r => r.Key));
            var state = await Stored<ShardState>("shard", Shard(model, shard));
            Assert.True(state.State!.EntriesInRows);
            Assert.Equal(shardEntries[shard].Select(e => e.ItemId), state.State.Entries.Select(e => e.ItemId));
        }

        // The rows per shard are counted again from the placements: a new item gets a row of its own.
        var next = (await Put(prefix + "-next", 1, embedding: true)).Single();
        Assert.DoesNotContain((next.Placement!.Shard, next.Placement.Row), placements.Values.Select(p => (p.Shard, p.Row)));
    }

    [Fact]
    public async Task Hidden_items_are_rows_sent_to_silos_once_per_change_and_a_set_kept_whole_by_an_earlier_release_is_copied_into_them()
    {
        var prefix = "hidden-" + Guid.NewGuid().ToString("N")[..8];
        var items = (await Put(prefix, 4, embedding: true)).Select(i => i.Id).ToArray();
        async Task SetHidden(string itemId, bool hidden)
        {
            using var response = await cluster.Http.PutAsJsonAsync($"/items/{itemId}", new { title = $"Title of {itemId}", hidden });
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }
        await SetHidden(items[0], true);
        await SetHidden(items[1], true);
        await SetHidden(items[0], false);

        // A row per item ever hidden, true while it is; the catalogue's state does not list them.
        var rows = (await Rows.ReadAsync<bool>(CatalogueGrain.HiddenOwner)).ToDictionary();
        Assert.False(rows[items[0]]);
        Assert.True(rows[items[1]]);
        Assert.False(rows.ContainsKey(items[2]));
        var stored = await Stored<CatalogueState>("catalogue", Catalogue);
        Assert.True(stored.State!.HiddenInRows);
        Assert.Empty(stored.State.Hidden);

        // A snapshot carries the hidden ids only to a caller that holds another set.
        var full = await Catalogue.GetSnapshotSince(0);
        Assert.Contains(items[1], full.Hidden!);
        Assert.DoesNotContain(items[0], full.Hidden!);
        Assert.Null((await Catalogue.GetSnapshotSince(full.HiddenToken)).Hidden);
        Assert.Null((await Catalogue.GetSnapshot()).Hidden);
        await SetHidden(items[2], true);
        var changed = await Catalogue.GetSnapshotSince(full.HiddenToken);
        Assert.NotEqual(full.HiddenToken, changed.HiddenToken);
        Assert.Contains(items[2], changed.Hidden!);

        // As an earlier release kept it: the hidden set in the state, no rows.
        stored = await Stored<CatalogueState>("catalogue", Catalogue);
        stored.State!.Hidden = new([items[2], items[3]], StringComparer.Ordinal);
        stored.State.HiddenInRows = false;
        await Storage.WriteStateAsync("catalogue", Catalogue.GetGrainId(), stored);
        await Rows.WriteAsync<bool>(CatalogueGrain.HiddenOwner, [], replaceAll: true);
        await Deactivate(Catalogue);

        // The new activation names its set afresh, so every silo fetches it again; it is the stored one.
        var after = await Catalogue.GetSnapshotSince(changed.HiddenToken);
        Assert.NotEqual(changed.HiddenToken, after.HiddenToken);
        Assert.Equal([items[2], items[3]], after.Hidden!.Order(StringComparer.Ordinal));
        Assert.Equal([KeyValuePair.Create(items[2], true), KeyValuePair.Create(items[3], true)],
            (await Rows.ReadAsync<bool>(CatalogueGrain.HiddenOwner)).OrderBy(r => r.Key, StringComparer.Ordinal));
        var kept = await Stored<CatalogueState>("catalogue", Catalogue);
        Assert.True(kept.State!.HiddenInRows);
        Assert.Equal([items[2], items[3]], kept.State.Hidden.Order(StringComparer.Ordinal));

        // Later changes go on from the copied set.
        await SetHidden(items[2], false);
        Assert.DoesNotContain(items[2], (await Catalogue.GetSnapshotSince(0)).Hidden!);
        Assert.True((await Rows.ReadAsync<bool>(CatalogueGrain.HiddenOwner)).ToDictionary()[items[3]]);
    }

    [Fact]
    public async Task A_grain_state_write_queues_behind_the_other_writes_to_the_sqlite_file()
    {
        // SQLite takes one writer at a time; a writer that finds the file busy would sleep 150 ms in the driver.
        var connectionString = Silo.SiloHost.Services.GetRequiredService<IOptions<RecommenderOptions>>().Value.StorageConnectionString;
        var writer = AdoNetConnections.SqliteWriter(connectionString);
        var user = cluster.Cluster.Client.User("queued-writer");
        var events = new Immutable<UserEvent[]>([new UserEvent("1", EventType.View, DateTimeOffset.UnixEpoch.AddDays(20_000), "queued-1")]);
        await writer.WaitAsync();
        Task<IngestResult> ingest;
        try
        {
            ingest = user.Ingest(events);
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            Assert.False(ingest.IsCompleted, "the user's write did not wait for the writer ahead of it");
        }
        finally
        {
            writer.Release();
        }
        Assert.Equal(new IngestResult(1, 0), await ingest);
        Assert.Single((await Stored<UserState>("user", user)).State!.Events);
    }
}

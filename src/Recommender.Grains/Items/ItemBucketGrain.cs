using Microsoft.Extensions.DependencyInjection;
using Orleans.Providers;
using Orleans.Storage;
using Recommender.Abstractions;

namespace Recommender.Grains.Items;

/// <summary>
/// The state of a bucket as earlier releases kept it, every item in one row. It is copied into the store once and
/// kept, marked as copied, so that rolling back to such a release still finds the catalogue as it was then.
/// </summary>
[GenerateSerializer, Alias("recommender.item-bucket-state")]
public sealed class ItemBucketState
{
    [Id(0)] public Dictionary<string, ItemDetails> Items { get; set; } = new(StringComparer.Ordinal);

    /// <summary>When each item was last imported (absent for buckets written before import times were kept).</summary>
    [Id(1)] public Dictionary<string, DateTimeOffset> ImportedAt { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Set once the items are in the store. An earlier release does not know the field and drops it when it writes
    /// the bucket, so after a rollback that wrote to the bucket the next upgrade copies its items again.
    /// </summary>
    [Id(2)] public bool Copied { get; set; }
}

/// <summary>
/// The bulk-loaded items that hash to this bucket, stored one row each (<see cref="IBulkItemStore"/>). The bucket
/// keeps only their ids in memory, so that checking the items of incoming events asks no database. Writes to a
/// bucket run one at a time, so keeping an earlier embedding is a read and a write with no other write between.
/// </summary>
public sealed class ItemBucketGrain(IBulkItemStore store) : Grain, IItemBucketGrain
{
    /// <summary>The grain-state name under which earlier releases kept a whole bucket.</summary>
    public const string LegacyStateName = "item-bucket";

    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private Task? _loaded;

    private int Bucket => (int)this.GetPrimaryKeyLong();

    /// <summary>
    /// Reads the bucket's ids on its first call rather than on activation: a database that cannot be reached then
    /// fails that call, which callers see as retryable, instead of the activation, which they would see as an error.
    /// A failed read is tried again by the next call.
    /// </summary>
    private Task Loaded()
    {
        if (_loaded is null || _loaded.IsFaulted || _loaded.IsCanceled) _loaded = Load();
        return _loaded;
    }

    private async Task Load()
    {
        var storage = ServiceProvider.GetRequiredKeyedService<IGrainStorage>(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME);
        var legacy = new GrainState<ItemBucketState>(new ItemBucketState());
        await storage.ReadStateAsync(LegacyStateName, this.GetGrainId(), legacy);
        if (legacy.State is { Copied: false, Items.Count: > 0 } old)
        {
            // Written by an earlier release: the items get rows of their own, keeping their import times. Copying
            // again after a failure between the two steps writes the same rows.
            var copies = old.Items.Values
                .Select(d => new BulkItem(d, old.ImportedAt.GetValueOrDefault(d.Id, DateTimeOffset.MinValue)))
                .ToArray();
            await store.UpsertAsync(Bucket, copies);
            old.Copied = true;
            await storage.WriteStateAsync(LegacyStateName, this.GetGrainId(), legacy);
        }
        _ids.UnionWith(await store.IdsInBucketAsync(Bucket));
    }

    public async Task Import(Immutable<ItemDetails[]> items) => await Store(items.Value);

    public async Task<Immutable<byte[]?[]>> ImportKeepingEmbeddings(Immutable<ItemDetails[]> items) =>
        new((await Store(items.Value)).Select(d => d.Embedding).ToArray());

    /// <summary>Stores the items (a reload without a vector keeps the one given before) and returns them as stored.</summary>
    private async Task<ItemDetails[]> Store(ItemDetails[] items)
    {
        await Loaded();
        foreach (var item in items)
            if (ItemBuckets.Of(item.Id) != Bucket)
                throw new ArgumentException($"Item '{item.Id}' belongs in bucket {ItemBuckets.Of(item.Id)}, not {Bucket}.");
        var reloaded = items.Where(i => i.Embedding is null && _ids.Contains(i.Id)).Select(i => i.Id).ToArray();
        var before = reloaded.Length == 0 ? new Dictionary<string, BulkItem>() : await store.FindAsync(reloaded);
        // Within one call too, an entry without a vector keeps the one an earlier entry for the same id gave.
        var embeddings = before.ToDictionary(p => p.Key, p => p.Value.Details.Embedding, StringComparer.Ordinal);
        var now = DateTimeOffset.UtcNow;
        var stored = new ItemDetails[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            var item = items[i];
            stored[i] = item.Embedding is null && embeddings.GetValueOrDefault(item.Id) is { } kept ? item with { Embedding = kept } : item;
            embeddings[item.Id] = stored[i].Embedding;
        }
        await store.UpsertAsync(Bucket, stored.Select(d => new BulkItem(d, now)).ToArray());
        _ids.UnionWith(items.Select(i => i.Id));
        return stored;
    }

    public async Task<BulkItem?> Find(string itemId)
    {
        await Loaded();
        return _ids.Contains(itemId) ? (await store.FindAsync([itemId])).GetValueOrDefault(itemId) : null;
    }

    public async Task<Immutable<BulkItem?[]>> FindMany(Immutable<string[]> itemIds)
    {
        await Loaded();
        var known = itemIds.Value.Where(_ids.Contains).ToArray();
        var found = known.Length == 0 ? new Dictionary<string, BulkItem>() : await store.FindAsync(known);
        return new(itemIds.Value.Select(id => found.GetValueOrDefault(id)).ToArray());
    }

    public async Task<ItemDetails?> Get(string itemId) => (await Find(itemId))?.Details;

    public async Task<bool[]> Contains(Immutable<string[]> itemIds)
    {
        await Loaded();
        return itemIds.Value.Select(_ids.Contains).ToArray();
    }

    public async Task<bool[]> Remove(Immutable<string[]> itemIds)
    {
        await Loaded();
        var had = itemIds.Value.Select(_ids.Contains).ToArray();
        var held = itemIds.Value.Where(_ids.Contains).Distinct(StringComparer.Ordinal).ToArray();
        if (held.Length == 0) return had;
        // The rows first: memory never lacks an item the store still holds.
        await store.DeleteAsync(held);
        _ids.ExceptWith(held);
        return had;
    }
}

using Recommender.Abstractions;

namespace Recommender.Grains.Items;

/// <summary>The state of a bucket as earlier releases kept it, every item in one row: read once, moved into the store, cleared.</summary>
[GenerateSerializer, Alias("recommender.item-bucket-state")]
public sealed class ItemBucketState
{
    [Id(0)] public Dictionary<string, ItemDetails> Items { get; set; } = new(StringComparer.Ordinal);

    /// <summary>When each item was last imported (absent for buckets written before import times were kept).</summary>
    [Id(1)] public Dictionary<string, DateTimeOffset> ImportedAt { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The bulk-loaded items that hash to this bucket, stored one row each (<see cref="IBulkItemStore"/>). The bucket
/// keeps only their ids in memory, so that checking the items of incoming events asks no database. Writes to a
/// bucket run one at a time, so keeping an earlier embedding is a read and a write with no other write between.
/// </summary>
public sealed class ItemBucketGrain(
    [PersistentState("item-bucket")] IPersistentState<ItemBucketState> legacy,
    IBulkItemStore store) : Grain, IItemBucketGrain
{
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);

    private int Bucket => (int)this.GetPrimaryKeyLong();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (legacy.State.Items.Count > 0)
        {
            // Written by an earlier release: the items move to rows of their own, keeping their import times. Moving
            // again after a failure between the two steps writes the same rows.
            var moved = legacy.State.Items.Values
                .Select(d => new BulkItem(d, legacy.State.ImportedAt.GetValueOrDefault(d.Id, DateTimeOffset.MinValue)))
                .ToArray();
            await store.UpsertAsync(Bucket, moved, cancellationToken);
            await legacy.ClearStateAsync();
        }
        _ids.UnionWith(await store.IdsInBucketAsync(Bucket, cancellationToken));
    }

    public async Task Import(Immutable<ItemDetails[]> items) => await Store(items.Value);

    public async Task<Immutable<byte[]?[]>> ImportKeepingEmbeddings(Immutable<ItemDetails[]> items) =>
        new((await Store(items.Value)).Select(d => d.Embedding).ToArray());

    /// <summary>Stores the items (a reload without a vector keeps the one given before) and returns them as stored.</summary>
    private async Task<ItemDetails[]> Store(ItemDetails[] items)
    {
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

    public async Task<BulkItem?> Find(string itemId) =>
        _ids.Contains(itemId) ? (await store.FindAsync([itemId])).GetValueOrDefault(itemId) : null;

    public async Task<Immutable<BulkItem?[]>> FindMany(Immutable<string[]> itemIds)
    {
        var known = itemIds.Value.Where(_ids.Contains).ToArray();
        var found = known.Length == 0 ? new Dictionary<string, BulkItem>() : await store.FindAsync(known);
        return new(itemIds.Value.Select(id => found.GetValueOrDefault(id)).ToArray());
    }

    public async Task<ItemDetails?> Get(string itemId) => (await Find(itemId))?.Details;

    public Task<bool[]> Contains(Immutable<string[]> itemIds) => Task.FromResult(itemIds.Value.Select(_ids.Contains).ToArray());
}

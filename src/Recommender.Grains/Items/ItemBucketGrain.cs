using Recommender.Abstractions;

namespace Recommender.Grains.Items;

[GenerateSerializer, Alias("recommender.item-bucket-state")]
public sealed class ItemBucketState
{
    [Id(0)] public Dictionary<string, ItemDetails> Items { get; set; } = new(StringComparer.Ordinal);

    /// <summary>When each item was last imported (absent for buckets written before import times were kept).</summary>
    [Id(1)] public Dictionary<string, DateTimeOffset> ImportedAt { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Holds the bulk-loaded details of the items that hash to this bucket.</summary>
public sealed class ItemBucketGrain([PersistentState("item-bucket")] IPersistentState<ItemBucketState> state) : Grain, IItemBucketGrain
{
    public async Task Import(Immutable<ItemDetails[]> items) => await Store(items.Value);

    public async Task<Immutable<byte[]?[]>> ImportKeepingEmbeddings(Immutable<ItemDetails[]> items) =>
        new((await Store(items.Value)).Select(d => d.Embedding).ToArray());

    /// <summary>Stores the items (a reload without a vector keeps the one given before) and returns them as stored.</summary>
    private async Task<ItemDetails[]> Store(ItemDetails[] items)
    {
        foreach (var item in items)
            if (ItemBuckets.Of(item.Id) != this.GetPrimaryKeyLong())
                throw new ArgumentException($"Item '{item.Id}' belongs in bucket {ItemBuckets.Of(item.Id)}, not {this.GetPrimaryKeyLong()}.");
        var now = DateTimeOffset.UtcNow;
        var stored = new ItemDetails[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            var item = items[i];
            stored[i] = item.Embedding is null && state.State.Items.GetValueOrDefault(item.Id)?.Embedding is { } kept ? item with { Embedding = kept } : item;
            state.State.Items[item.Id] = stored[i];
            state.State.ImportedAt[item.Id] = now;
        }
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Memory must match what is stored: start again from it.
            await state.ReadStateAsync();
            throw;
        }
        return stored;
    }

    public Task<BulkItem?> Find(string itemId) =>
        Task.FromResult(state.State.Items.TryGetValue(itemId, out var item)
            ? new BulkItem(item, state.State.ImportedAt.GetValueOrDefault(itemId, DateTimeOffset.MinValue))
            : null);

    public Task<ItemDetails?> Get(string itemId) => Task.FromResult(state.State.Items.GetValueOrDefault(itemId));

    public Task<bool[]> Contains(Immutable<string[]> itemIds) => Task.FromResult(itemIds.Value.Select(state.State.Items.ContainsKey).ToArray());
}

using Recommender.Abstractions;

namespace Recommender.Grains.Items;

[GenerateSerializer, Alias("recommender.item-bucket-state")]
public sealed class ItemBucketState
{
    [Id(0)] public Dictionary<string, ItemDetails> Items { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Holds the bulk-loaded details of the items that hash to this bucket.</summary>
public sealed class ItemBucketGrain([PersistentState("item-bucket")] IPersistentState<ItemBucketState> state) : Grain, IItemBucketGrain
{
    public async Task Import(Immutable<ItemDetails[]> items)
    {
        foreach (var item in items.Value)
        {
            if (ItemBuckets.Of(item.Id) != this.GetPrimaryKeyLong())
                throw new ArgumentException($"Item '{item.Id}' belongs in bucket {ItemBuckets.Of(item.Id)}, not {this.GetPrimaryKeyLong()}.");
            state.State.Items[item.Id] = item;
        }
        await state.WriteStateAsync();
    }

    public Task<ItemDetails?> Get(string itemId) => Task.FromResult(state.State.Items.GetValueOrDefault(itemId));

    public Task<bool[]> Contains(Immutable<string[]> itemIds) => Task.FromResult(itemIds.Value.Select(state.State.Items.ContainsKey).ToArray());
}

using Recommender.Abstractions;
using Recommender.Grains.Inference;

namespace Recommender.Grains.Items;

/// <summary>
/// Finds an item's shard and row: items the model was trained on are placed by formula from the package
/// vocabulary (no grain call); only items added later are looked up in the catalogue.
/// </summary>
public sealed class ItemLocator(ModelRegistry models, IGrainFactory grains)
{
    public async Task<ItemPlacement?> Locate(ActiveModel model, string itemId)
    {
        if (models.Get(model.Version).DenseIds.TryGetValue(itemId, out var dense))
            return new ItemPlacement(model.Version, ShardKey.ShardOf(dense, model.Shards), ShardKey.RowOf(dense, model.Shards), dense);
        return await grains.GetGrain<ICatalogueGrain>(0).GetPlacement(itemId);
    }
}

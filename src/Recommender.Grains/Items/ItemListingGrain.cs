using Recommender.Abstractions;

namespace Recommender.Grains.Items;

/// <summary>Lists the stored items for an export; a stateless worker, so that the silo a front end reaches reads the storage.</summary>
[StatelessWorker]
public sealed class ItemListingGrain(IStoredItems stored) : Grain, IItemListingGrain
{
    public async Task<Immutable<string[]>> ListIds()
    {
        var ids = new List<string>();
        await foreach (var id in stored.ListIdsAsync(CancellationToken.None)) ids.Add(id);
        return new Immutable<string[]>([.. ids]);
    }
}

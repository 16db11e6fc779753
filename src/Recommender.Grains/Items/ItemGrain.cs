using Recommender.Abstractions;
using Recommender.Grains.Catalogue;

namespace Recommender.Grains.Items;

/// <summary>
/// Catalogue details of one item; saving them also places (or re-titles) the item in the active model's shards.
/// An item that was only bulk-loaded has no state of its own: its details come from its bucket until it is edited.
/// </summary>
public sealed class ItemGrain(
    [PersistentState("item")] IPersistentState<ItemState> state,
    CatalogueCache catalogue,
    ItemLocator locator) : Grain, IItemGrain
{
    private ItemDetails? _bulkLoaded;

    /// <summary>The bucket's copy; asked again while missing, since a bulk load may land after this activation.</summary>
    private async ValueTask<ItemDetails?> BulkLoaded()
    {
        if (_bulkLoaded is null && state.State.Title is null)
        {
            var id = this.GetPrimaryKeyString();
            _bulkLoaded = await GrainFactory.GetGrain<IItemBucketGrain>(ItemBuckets.Of(id)).Get(id);
        }
        return _bulkLoaded;
    }

    public async Task<ItemView> Upsert(ItemDetails details)
    {
        await Store(details);
        var placed = await GrainFactory.GetGrain<ICatalogueGrain>(0)
            .PlaceItems(new Immutable<ShardEntry[]>([new ShardEntry(details.Id, details.Title, state.State.Embedding, details.Tags)]));
        return new ItemView(Details(), placed[0], state.State.UpdatedAt);
    }

    public Task Import(ItemDetails details) => Store(details);

    public async Task<ItemView?> Get()
    {
        var details = state.State.Title is not null ? Details() : await BulkLoaded();
        if (details is null) return null;
        var model = (await catalogue.GetAsync()).Model;
        var placement = model is null ? null : await locator.Locate(model, this.GetPrimaryKeyString());
        return new ItemView(details, placement, state.State.Title is not null ? state.State.UpdatedAt : DateTimeOffset.MinValue);
    }

    public async Task<ItemDetails?> GetDetails() => state.State.Title is not null ? Details() : await BulkLoaded();

    public async Task<bool> Exists() => state.State.Title is not null || await BulkLoaded() is not null;

    private async Task Store(ItemDetails details)
    {
        state.State.Title = details.Title;
        state.State.Text = details.Text;
        state.State.Tags = [.. details.Tags];
        // An update without a vector keeps the one given before.
        state.State.Embedding = details.Embedding ?? state.State.Embedding ?? (await BulkLoaded())?.Embedding;
        state.State.UpdatedAt = DateTimeOffset.UtcNow;
        await state.WriteStateAsync();
    }

    private ItemDetails Details() =>
        new(this.GetPrimaryKeyString(), state.State.Title!, state.State.Text, state.State.Tags, state.State.Embedding);
}

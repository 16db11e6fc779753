using Recommender.Abstractions;
using Recommender.Grains.Catalogue;
using Recommender.Grains.Text;

namespace Recommender.Grains.Items;

/// <summary>
/// Catalogue details of one item; saving them also places (or re-titles) the item in the active model's shards.
/// Its composed text is encoded into a raw text vector (kept with the item) before anything is written, so that a
/// model version with a text projection can place an item it was never trained on.
/// An item written by PUT has state of its own; a bulk-loaded one lives in its bucket. Reads serve the newer of the two.
/// </summary>
public sealed class ItemGrain(
    [PersistentState("item")] IPersistentState<ItemState> state,
    CatalogueCache catalogue,
    ItemLocator locator,
    TextEncoding text) : Grain, IItemGrain
{
    // Whether a write is running on this activation (reads interleave with it; writes run one at a time).
    private bool _writing;

    /// <summary>The item's current details and when they were written: its own state or its bucket's copy, whichever is newer.</summary>
    private async Task<(ItemDetails Details, DateTimeOffset UpdatedAt)?> Current()
    {
        var id = GrainKeys.IdOf(this);
        // Asked on every read: a bulk load may replace the item at any time.
        return Newer(await GrainFactory.GetGrain<IItemBucketGrain>(ItemBuckets.Of(id)).Find(id));
    }

    /// <summary>The item's own details or its bulk-loaded copy, whichever was written later.</summary>
    private (ItemDetails Details, DateTimeOffset UpdatedAt)? Newer(BulkItem? bulk)
    {
        if (state.State.Title is not null && (bulk is null || state.State.UpdatedAt >= bulk.ImportedAt)) return (Details(), state.State.UpdatedAt);
        return bulk is null ? null : (bulk.Details, bulk.ImportedAt);
    }

    public async Task<ItemView> Upsert(ItemDetails details, CancellationToken cancellation)
    {
        _writing = true;
        try
        {
            return await Write(details, (await Current())?.Details, cancellation);
        }
        finally
        {
            _writing = false;
        }
    }

    public Task<ItemChangeOutcome> Change(ItemChange change, CancellationToken cancellation) => ChangeIf(change, ItemPrecondition.None, cancellation);

    public async Task<ItemChangeOutcome> UpsertIf(ItemDetails details, ItemPrecondition precondition, CancellationToken cancellation)
    {
        _writing = true;
        try
        {
            var current = await Current();
            if (!precondition.HeldBy(current?.UpdatedAt))
                return await AlreadyWritten(current, details) ?? new ItemChangeOutcome(current is not null, PreconditionFailed: true, StoredAt: current?.UpdatedAt);
            return new ItemChangeOutcome(true, await Write(details, current?.Details, cancellation));
        }
        finally
        {
            _writing = false;
        }
    }

    public async Task<ItemChangeOutcome> ChangeIf(ItemChange change, ItemPrecondition precondition, CancellationToken cancellation)
    {
        _writing = true;
        try
        {
            if (await Current() is not { } current) return new ItemChangeOutcome(Found: false);
            var changed = change.ToWrite(current.Details);
            if (!precondition.HeldBy(current.UpdatedAt))
                return await AlreadyWritten(current, changed) ?? new ItemChangeOutcome(true, PreconditionFailed: true, StoredAt: current.UpdatedAt);
            if (ItemDetails.WindowProblem(changed.AvailableFrom, changed.ExpiresAt) is { } problem) return new ItemChangeOutcome(true, Refusal: problem);
            return new ItemChangeOutcome(true, await Write(changed, current.Details, cancellation));
        }
        finally
        {
            _writing = false;
        }
    }

    /// <summary>
    /// The item as it is, when it already shows every detail <paramref name="wanted"/> gives: a conditional write sent
    /// again after its answer was lost finds its own write, which moved the version on, and is answered as made.
    /// </summary>
    private async Task<ItemChangeOutcome?> AlreadyWritten((ItemDetails Details, DateTimeOffset UpdatedAt)? current, ItemDetails wanted) =>
        current is { } stored && Shows(stored.Details, wanted) ? new ItemChangeOutcome(true, await ViewOf(stored.Details, stored.UpdatedAt)) : null;

    /// <summary>Whether <paramref name="stored"/> holds what a write of <paramref name="wanted"/> would store (a write without an embedding keeps the stored one).</summary>
    private static bool Shows(ItemDetails stored, ItemDetails wanted) =>
        stored.Title == wanted.Title && stored.Text == wanted.Text && stored.Tags.SequenceEqual(wanted.Tags) && stored.Hidden == wanted.Hidden
        && stored.AvailableFrom == wanted.AvailableFrom && stored.ExpiresAt == wanted.ExpiresAt
        && (wanted.Embedding is null || stored.Embedding is { } kept && kept.AsSpan().SequenceEqual(wanted.Embedding));

    /// <summary>Stores and places <paramref name="details"/> over <paramref name="current"/>, the details stored now (null for a new item).</summary>
    private async Task<ItemView> Write(ItemDetails details, ItemDetails? current, CancellationToken cancellation)
    {
        // An update without a vector keeps the one given before.
        var givenEmbedding = details.Embedding is not null;
        details = details with { Embedding = details.Embedding ?? current?.Embedding };
        if (details.TextVector is null)
        {
            // An unchanged text keeps its vector; a changed one is encoded before anything is written.
            var composed = TextEncoding.Compose(details);
            if (current?.TextVector is { } kept && TextEncoding.Compose(current) == composed) details = details with { TextVector = kept };
            else if (text.Enabled) details = details with { TextVector = (await text.EncodeAsync([composed]))[0] };
        }
        // The caller gave up on this attempt (it waited behind a slow write, or its text took long to encode) and may
        // already have sent the item again: nothing has been written yet, so the attempt ends here.
        cancellation.ThrowIfCancellationRequested();
        await Store(details);
        // A bulk write (POST /items) reads only the item's bucket: an embedding given here must be there too, so that
        // a later bulk update without one keeps it.
        if (details.Embedding is not null && givenEmbedding)
            await GrainFactory.GetGrain<IItemBucketGrain>(ItemBuckets.Of(details.Id)).Import(new Immutable<ItemDetails[]>([details]));
        var registry = GrainFactory.GetGrain<ICatalogueGrain>(0);
        // Told every time, not only on a change: a retry after a failed call then repairs the catalogue's set.
        await registry.SetHidden(new Immutable<string[]>(details.Hidden ? [details.Id] : []), new Immutable<string[]>(details.Hidden ? [] : [details.Id]));
        var placed = await registry
            .PlaceItems(new Immutable<ShardEntry[]>([ShardEntry.Written(details)]));
        // With the bucket written too, reads serve its copy: answer with the time they will show.
        var updatedAt = givenEmbedding ? (await Current())?.UpdatedAt ?? state.State.UpdatedAt : state.State.UpdatedAt;
        return View(details, placed[0], updatedAt);
    }

    public async Task<bool> Delete()
    {
        _writing = true;
        try
        {
            return await DeleteStored();
        }
        finally
        {
            _writing = false;
        }
    }

    public async Task<ItemDeletion> DeleteIf(ItemPrecondition precondition)
    {
        _writing = true;
        try
        {
            if (await Current() is { } current && !precondition.HeldBy(current.UpdatedAt)) return new ItemDeletion(false, PreconditionFailed: true, StoredAt: current.UpdatedAt);
            return new ItemDeletion(await DeleteStored());
        }
        finally
        {
            _writing = false;
        }
    }

    private async Task<bool> DeleteStored()
    {
        var id = GrainKeys.IdOf(this);
        // The details go first, then the catalogue's rows: a repeat after a failure between the steps finds no
        // details and still takes the item out of the catalogue. Either copy erased means the item was there.
        var bulk = (await GrainFactory.GetGrain<IItemBucketGrain>(ItemBuckets.Of(id)).Remove(new Immutable<string[]>([id])))[0];
        var own = await Erase();
        await GrainFactory.GetGrain<ICatalogueGrain>(0).RemoveItems(new Immutable<string[]>([id]));
        return bulk || own;
    }

    public async Task<bool> EraseOwnDetails()
    {
        _writing = true;
        try
        {
            // Kept active for the catalogue's question that follows (StoredAfterDeletion), which lets it go.
            return await Erase();
        }
        finally
        {
            _writing = false;
        }
    }

    public async Task<bool> StoredAfterDeletion()
    {
        var stored = await Current() is not null;
        // A batch of deletions does not keep a thousand empty activations in memory.
        if (!stored && !_writing && state.State.Title is null) DeactivateOnIdle();
        return stored;
    }

    /// <summary>Clears the item's own stored state; whether it held details.</summary>
    private async Task<bool> Erase()
    {
        var had = state.State.Title is not null;
        if (state.RecordExists)
        {
            try
            {
                await state.ClearStateAsync();
            }
            catch
            {
                // Memory must match what is stored: start again from it.
                await state.ReadStateAsync();
                throw;
            }
        }
        state.State = new ItemState();
        return had;
    }

    public async Task<ItemView?> Get() => await Current() is { } current ? await ViewOf(current.Details, current.UpdatedAt) : null;

    /// <summary>The view of the item as stored, with its place in the active version.</summary>
    private async Task<ItemView> ViewOf(ItemDetails details, DateTimeOffset updatedAt)
    {
        var model = (await catalogue.GetAsync()).Model;
        var placement = model is null ? null : await locator.Locate(model, GrainKeys.IdOf(this));
        return View(details, placement, updatedAt);
    }

    public async Task<ItemDetails?> GetDetails() => (await Current())?.Details;

    public async Task<bool> Exists() => await Current() is not null;

    /// <summary>
    /// A model activation reads every item of the new version once: a bulk-loaded item, or an id no one wrote, holds
    /// nothing of its own here, so its activation is not kept in memory until the idle collector finds it. Not while a
    /// write runs: it may be waiting on the catalogue while the catalogue waits on this read, and a deactivating grain
    /// finishes what runs before it takes another message. Serving reads keep the activation (they come again).
    /// </summary>
    public Task<ItemDetails?> GetDetailsOnce(BulkItem? bulkCopy)
    {
        var details = Newer(bulkCopy)?.Details;
        if (!_writing && state.State.Title is null) DeactivateOnIdle();
        return Task.FromResult(details);
    }

    private async Task Store(ItemDetails details)
    {
        state.State.Title = details.Title;
        state.State.Text = details.Text;
        state.State.Tags = [.. details.Tags];
        state.State.Embedding = details.Embedding;
        state.State.TextVector = details.TextVector;
        state.State.Hidden = details.Hidden;
        state.State.ExpiresAt = details.ExpiresAt;
        state.State.AvailableFrom = details.AvailableFrom;
        state.State.UpdatedAt = DateTimeOffset.UtcNow;
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
    }

    private ItemDetails Details() =>
        new(GrainKeys.IdOf(this), state.State.Title!, state.State.Text, state.State.Tags, state.State.Embedding, state.State.TextVector, state.State.Hidden, state.State.ExpiresAt, state.State.AvailableFrom);

    /// <summary>Views leave the text vector inside the cluster and only say whether there is one; a time of MinValue means "not known".</summary>
    private static ItemView View(ItemDetails details, ItemPlacement? placement, DateTimeOffset updatedAt) =>
        new(details with { TextVector = null }, placement, updatedAt, details.TextVector is not null);
}

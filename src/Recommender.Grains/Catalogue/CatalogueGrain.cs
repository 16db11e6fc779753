using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Recommender.Abstractions;
using Recommender.Grains.Inference;
using Recommender.Grains.Items;
using Recommender.Grains.Registry;
using Recommender.Model.Packaging;

namespace Recommender.Grains.Catalogue;

/// <summary>
/// The registry singleton: registered model versions and the active pointer, shard layout, placements of items
/// added after training, the seeded popularity list and the demo-load flag. Request paths read it through
/// <see cref="CatalogueCache"/>; snapshot reads interleave with a running activation and see the old pointer until
/// every shard of the new version is ready. What grows with the catalogue (placements of added items, the text items)
/// is kept in rows of its own (<see cref="IGrainRowStore"/>), so that placing an item writes that item's rows alone.
/// </summary>
public sealed class CatalogueGrain(
    [PersistentState("catalogue")] IPersistentState<CatalogueState> state,
    IGrainRowStore store,
    IStoredShards shardStates,
    ModelRegistry models,
    CatalogueCache cache,
    IOptions<ServingOptions> options,
    ILogger<CatalogueGrain> logger) : Grain, ICatalogueGrain
{
    private static readonly TimeSpan SeedingLease = TimeSpan.FromMinutes(10);
    private const int DetailLookupBatch = 256;
    private const int BulkLookupBatch = 4096;
    private (string Owner, DateTimeOffset Until)? _seedingClaim;
    private string? _activating;

    // Activations interleave with the other requests (they wait only while a new version is committed), so the steps
    // that change state take this gate: every other writer holds it for its whole call, an activation while it
    // starts and while it commits. Requests that are not interleaved run one at a time anyway and never contend for it.
    private readonly SemaphoreSlim _stateGate = new(1, 1);

    // One activation at a time.
    private readonly SemaphoreSlim _activationGate = new(1, 1);

    // Items written while an activation builds the new version's shards: placed under the old version as they come,
    // and replayed into the new one when it is committed, in the order they came.
    private List<ShardEntry[]>? _writtenDuringActivation;

    // Items deleted meanwhile (and not written again since): taken out of the new version's shards after the replay.
    private HashSet<string>? _deletedDuringActivation;

    /// <summary>The rows of the deleted items (<see cref="IGrainRowStore"/>), kept while a serving version was trained on them.</summary>
    public const string DeletedOwner = "catalogue/deleted";

    // Deleted items, which the hidden set carries so that every silo's popular list drops them at once (their trained
    // rows stay in the shards, unlisted); forgotten once no serving version was trained on them, or when written again.
    private HashSet<string> _deleted = new(StringComparer.Ordinal);

    // Items deleted lately: a write that stored one of them before its deletion may tell the catalogue after it.
    private readonly RecentItemIds _recentlyDeleted = new(TimeSpan.FromMinutes(10));

    // Items placed, and items whose hidden flag was set, lately: a write's step that comes soon after another write's
    // for the same item may carry details older than those stored (two writes that crossed), so it takes what is stored.
    private static readonly TimeSpan RecentWriteWindow = TimeSpan.FromMinutes(2);
    private readonly RecentItemIds _recentlyPlaced = new(RecentWriteWindow);
    private readonly RecentItemIds _recentlyFlagged = new(RecentWriteWindow);

    /// <summary>The rows of the hidden items (<see cref="IGrainRowStore"/>): true while hidden, false once shown again.</summary>
    public const string HiddenOwner = "catalogue/hidden";

    // Items kept in the catalogue but never recommended (under any version), e.g. out of stock.
    private HashSet<string> _hidden = new(StringComparer.Ordinal);

    /// <summary>The rows of the items' availability windows (<see cref="IGrainRowStore"/>); an item without one has no row.</summary>
    public const string ScheduleOwner = "catalogue/availability";

    // When items may be recommended; one outside its window (not yet available, or expired) counts as hidden. Checked
    // every ScheduleCheckInterval.
    private readonly ItemSchedule _schedule = new();
    private static readonly TimeSpan ScheduleCheckInterval = TimeSpan.FromSeconds(1);

    // Names the hidden set the snapshots carry: it changes with the set, and starts at random on every activation of
    // this grain, so that a silo holding the set an earlier activation sent fetches it again.
    private long _hiddenToken = Random.Shared.NextInt64(1, long.MaxValue / 2);

    // The hidden ids as the snapshot carries them, rebuilt only when the set changes.
    private string[]? _hiddenIds;

    // Position of each item in the seeded popular list, built on first use.
    private Dictionary<string, int>? _popularIndex;

    /// <summary>The rows of the text items (<see cref="IGrainRowStore"/>).</summary>
    public const string TextItemsOwner = "catalogue/text-items";

    // Placements of items outside the active model's vocabulary, replaced when another version is activated.
    private Dictionary<string, AddedPlacement> _added = new(StringComparer.Ordinal);

    // Items whose raw text vector is stored (in the item grain): what an activation projects when the new version
    // has a text projection.
    private HashSet<string> _textItems = new(StringComparer.Ordinal);

    // Rows per shard of the active version (model partition plus added items), to place new items where there is most room.
    private int[] _shardRows = [];

    // The same two for the candidate version, while there is one.
    private Dictionary<string, AddedPlacement> _candidateAdded = new(StringComparer.Ordinal);
    private int[] _candidateShardRows = [];

    private CatalogueState S => state.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var legacy = state.RecordExists && !S.RowsCopied;
        var legacyHidden = state.RecordExists && !S.HiddenInRows;
        S.RowsCopied = true;
        S.HiddenInRows = true;
        // Written by an earlier release: the placements, text items and hidden items get rows of their own. Copying
        // again after a failure between the steps writes the same rows.
        if (legacy)
        {
            await store.WriteAsync(TextItemsOwner, TextItemRows(S.TextItems), cancellation: cancellationToken);
            if (S.Model is { } active) await store.WriteAsync(AddedOwner(active), S.Added.ToArray(), replaceAll: true, cancellationToken);
        }
        if (legacyHidden) await store.WriteAsync(HiddenOwner, S.Hidden.Select(id => KeyValuePair.Create(id, true)).ToArray(), replaceAll: true, cancellationToken);
        if (legacy || legacyHidden) await state.WriteStateAsync(cancellationToken);
        _textItems = new((await store.ReadAsync<bool>(TextItemsOwner, cancellationToken)).Select(row => row.Key), StringComparer.Ordinal);
        _hidden = new((await store.ReadAsync<bool>(HiddenOwner, cancellationToken)).Where(row => row.Value).Select(row => row.Key), StringComparer.Ordinal);
        _deleted = new((await store.ReadAsync<bool>(DeletedOwner, cancellationToken)).Select(row => row.Key), StringComparer.Ordinal);
        _schedule.Apply((await store.ReadAsync<AvailabilityWindow>(ScheduleOwner, cancellationToken)).Select(row => KeyValuePair.Create(row.Key, (AvailabilityWindow?)row.Value)),
            DateTimeOffset.UtcNow);
        try
        {
            if (models.PurgeWithdrawn() is > 0 and var purged) logger.LogInformation("Removed the files of {Count} deleted model versions", purged);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(e, "Removing the files of deleted model versions failed; trying again when the catalogue next starts");
        }
        this.RegisterGrainTimer(OpenAndCloseDue, new GrainTimerCreationOptions(ScheduleCheckInterval, ScheduleCheckInterval));
        if (S.Model is { } model) (_added, _shardRows) = await ReadPlacements(model, cancellationToken);
        if (S.Candidate is { Model: var candidate }) (_candidateAdded, _candidateShardRows) = await ReadPlacements(candidate, cancellationToken);
    }

    /// <summary>The stored placements of added items under <paramref name="model"/>, and its rows per shard with them.</summary>
    private async Task<(Dictionary<string, AddedPlacement> Added, int[] ShardRows)> ReadPlacements(ActiveModel model, CancellationToken cancellation)
    {
        var added = new Dictionary<string, AddedPlacement>(await store.ReadAsync<AddedPlacement>(AddedOwner(model), cancellation), StringComparer.Ordinal);
        return (added, ShardRowsOf(model, added));
    }

    /// <summary>The rows of the placements of added items under <paramref name="model"/>.</summary>
    public static string AddedOwner(ActiveModel model) => $"{AddedPrefix(model.Version)}{model.Shards}";

    private static KeyValuePair<string, bool>[] TextItemRows(IEnumerable<string> itemIds) => itemIds.Select(id => KeyValuePair.Create(id, true)).ToArray();

    private static int[] ShardRowsOf(ActiveModel model, Dictionary<string, AddedPlacement> added)
    {
        var rows = ShardPlan.PackageRows(model);
        foreach (var placement in added.Values) rows[placement.Shard]++;
        return rows;
    }

    /// <summary>Remembers the items as text items, row first, so that memory never holds one the store does not.</summary>
    private async Task RememberTextItems(IEnumerable<ShardEntry> entries)
    {
        var added = entries.Where(e => e.TextVector is not null && !_textItems.Contains(e.ItemId)).Select(e => e.ItemId).Distinct(StringComparer.Ordinal).ToArray();
        if (added.Length == 0) return;
        await store.WriteAsync(TextItemsOwner, TextItemRows(added));
        _textItems.UnionWith(added);
    }

    public Task<CatalogueSnapshot> GetSnapshot() => Task.FromResult(Snapshot(withHidden: false));

    public Task<CatalogueSnapshot> GetSnapshotSince(long hiddenToken) => Task.FromResult(Snapshot(withHidden: hiddenToken != _hiddenToken));

    public async Task<ModelRegistration> RegisterModel(Immutable<ModelUpload> upload)
    {
        using var gate = await Enter(_stateGate);
        // ONNX Runtime loads the encoder off the grain's scheduler; the grain's turn still covers the whole registration.
        var (package, errors) = await Task.Run(() => ModelUploadValidator.Validate(upload.Value));
        if (package is null) return new ModelRegistration(null, errors);
        var version = package.Manifest.Version;
        if (WasDeleted(version) is { } deleted) return deleted;
        if (S.Models.ContainsKey(version))
            return new ModelRegistration(null, [new UploadError("version", $"Version '{version}' is already registered; upload the package under a new version.")], Conflict: true);
        await Task.Run(() => models.SaveAtomically(package));
        S.Models[version] = Describe(package, fallback: false);
        try
        {
            await Save();
        }
        catch
        {
            S.Models.Remove(version);
            Directory.Delete(models.PathOf(version), recursive: true);
            throw;
        }
        logger.LogInformation("Model {Version} registered ({Items} items, dimension {Dimension})", version, package.Manifest.ItemCount, package.Manifest.Dimension);
        return new ModelRegistration(S.Models[version], []);
    }

    public async Task<ModelRegistration> AdoptPlacedModel(Immutable<ModelInfo> checkedModel, string staging)
    {
        using var gate = await Enter(_stateGate);
        var model = checkedModel.Value;
        var version = model.Version;
        if (WasDeleted(version) is { } deleted) return deleted;
        if (S.Models.ContainsKey(version))
            return new ModelRegistration(null, [new UploadError("version", $"Version '{version}' is already registered.")], Conflict: true);
        try
        {
            // A rename on the same file system: every silo sees the whole package at once, under its version.
            await Task.Run(() => models.AdoptStaged(version, staging));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new ModelRegistration(null, [new UploadError("version", $"The package could not be moved into {models.PathOf(version)}: {e.Message}")]);
        }
        S.Models[version] = model with { State = ModelVersionState.Registered, RegisteredAt = DateTimeOffset.UtcNow, Fallback = false };
        try
        {
            await Save();
        }
        catch
        {
            S.Models.Remove(version);
            await Task.Run(() => models.UnadoptTo(version, staging));
            throw;
        }
        logger.LogInformation("Model {Version} registered from the incoming directory ({Items} items, dimension {Dimension})", version, model.ItemCount, model.Dimension);
        return new ModelRegistration(S.Models[version], []);
    }

    /// <summary>A deleted version's name is not registered again: a silo may still hold the deleted package under it.</summary>
    private ModelRegistration? WasDeleted(string version) => S.DeletedVersions.Contains(version)
        ? new ModelRegistration(null, [new UploadError("version", $"Version '{version}' was deleted, and a deleted version's name is not used again; register the package under a new version.")], Conflict: true)
        : null;

    public async Task<ModelInfo> RegisterStoredModel(string version, bool fallback)
    {
        using var gate = await Enter(_stateGate);
        if (S.Models.TryGetValue(version, out var known)) return WithLiveState(known);
        if (S.DeletedVersions.Contains(version) || !models.Exists(version)) throw new KeyNotFoundException($"Model version '{version}' is not stored under {models.PathOf(version)}.");
        var loaded = await Task.Run(() => models.Get(version));
        S.Models[version] = Describe(loaded.Package, fallback);
        await Save();
        logger.LogInformation("Model {Version} registered from the models directory (fallback: {Fallback})", version, fallback);
        return S.Models[version];
    }

    public async Task<ModelDeletion> DeleteModel(string version)
    {
        // Not beside an activation, which may be building this version's shards or about to retire it.
        if (!await _activationGate.WaitAsync(TimeSpan.Zero))
            return new ModelDeletion(null, $"An activation is under way; delete '{version}' once it has finished.");
        ModelInfo deleted;
        string? aside;
        try
        {
            using var gate = await Enter(_stateGate);
            if (!S.Models.TryGetValue(version, out var info)) return new ModelDeletion(null, NotFound: true);
            if (S.Model?.Version == version)
                return new ModelDeletion(null, $"'{version}' is the active version: activate another version (or roll back) first.");
            if (S.Candidate?.Model.Version == version)
                return new ModelDeletion(null, $"'{version}' is served to a share of the users: stop that first (DELETE /models/{version}/candidate).");
            // Requests that read the pointer just before the activation that retired it still finish on its shards.
            if (info.RetiredAt + options.Value.RetireGrace is { } drained && drained > DateTimeOffset.UtcNow)
                return new ModelDeletion(null, $"'{version}' was retired at {info.RetiredAt:O}, and requests that read the pointer before then may use its shards until {drained:O}; delete it after that.");
            try
            {
                aside = await Task.Run(() => models.Withdraw(version));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return new ModelDeletion(null, $"The package at {models.PathOf(version)} could not be moved away: {e.Message}");
            }
            var previous = S.PreviousVersions.ToList();
            S.Models.Remove(version);
            S.PreviousVersions.RemoveAll(v => v == version);
            S.DeletedVersions.Add(version);
            try
            {
                await Save();
            }
            catch
            {
                S.Models[version] = info;
                S.PreviousVersions = previous;
                S.DeletedVersions.Remove(version);
                if (aside is not null) await Task.Run(() => models.Restore(version, aside));
                throw;
            }
            deleted = info;
        }
        finally
        {
            _activationGate.Release();
        }
        // What is left now is no longer reachable: a failure costs space, not correctness (the name is never reused).
        try
        {
            if (aside is not null) await Task.Run(() => models.Purge(aside));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(e, "Model {Version} deleted, but removing its files failed; they are removed when the catalogue next starts", version);
        }
        try
        {
            var rows = await store.DeleteOwnersAsync(ItemShardGrain.EntriesOwner($"{version}/")) + await store.DeleteOwnersAsync(AddedPrefix(version));
            var states = await shardStates.DeleteStatesAsync(version);
            await GrainFactory.GetGrain<IExperimentGrain>(version).Clear();
            logger.LogInformation("Model {Version} deleted ({Rows} shard and placement rows, {States} shard states, its A/B test counts)", version, rows, states);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Model {Version} deleted, but removing the rows and states its shards and A/B tests kept failed; they stay unused", version);
        }
        return new ModelDeletion(deleted);
    }

    private static string AddedPrefix(string version) => $"catalogue/added/{version}/";

    public Task<IReadOnlyList<ModelInfo>> ListModels() =>
        Task.FromResult<IReadOnlyList<ModelInfo>>(S.Models.Values.OrderBy(m => m.RegisteredAt).Select(WithLiveState).ToArray());

    public Task<ModelInfo?> GetModel(string version) =>
        Task.FromResult(S.Models.TryGetValue(version, out var info) ? WithLiveState(info) : null);

    public async Task<ActivationResult> ActivateModel(string version, int shards)
    {
        using var one = await Enter(_activationGate);
        return await Activate(version, shards, rollback: false);
    }

    public async Task<ActivationResult> StartCandidate(string version, double share, int shards)
    {
        if (!(share is > 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(share), share, "A candidate's share of the users is above 0 and at most 1.");
        using var one = await Enter(_activationGate);
        return await Activate(version, shards, rollback: false, candidateShare: share);
    }

    public async Task<ModelCandidate?> StopCandidate(string version)
    {
        using var one = await Enter(_activationGate);
        ModelCandidate stopped;
        using (await Enter(_stateGate))
        {
            if (S.Candidate is not { } current || current.Model.Version != version) return null;
            var info = S.Models.GetValueOrDefault(version);
            var (added, shardRows) = (_candidateAdded, _candidateShardRows);
            S.Candidate = null;
            if (info is not null) S.Models[version] = info with { State = ModelVersionState.Retired, RetiredAt = DateTimeOffset.UtcNow };
            // Cleared before the save, whose snapshot works out the hidden set without the candidate's rows.
            (_candidateAdded, _candidateShardRows) = (new(StringComparer.Ordinal), []);
            RenewHiddenSet();
            try
            {
                await Save();
            }
            catch
            {
                S.Candidate = current;
                if (info is not null) S.Models[version] = info;
                (_candidateAdded, _candidateShardRows) = (added, shardRows);
                RenewHiddenSet();
                throw;
            }
            stopped = current;
        }
        logger.LogInformation("Model {Version} no longer served to a share of the users ({Share:P1} since {Since:O})", version, stopped.Share, stopped.Model.ActivatedAt);
        await Release(stopped.Model);
        return stopped;
    }

    public Task<string?> GetRollbackTarget() => Task.FromResult(RollbackTarget());

    /// <summary>The most recent previously active version still registered, else the fallback; never the active one.</summary>
    private string? RollbackTarget()
    {
        var current = S.Model?.Version;
        return S.PreviousVersions.LastOrDefault(v => v != current && S.Models.ContainsKey(v))
            ?? S.Models.Values.FirstOrDefault(m => m.Fallback && m.Version != current)?.Version;
    }

    public async Task<ActivationResult> Rollback(int shards)
    {
        using var one = await Enter(_activationGate);
        var target = RollbackTarget() ?? throw new InvalidOperationException("There is no previously active version to roll back to.");
        return await Activate(target, shards, rollback: true);
    }

    public async Task<IReadOnlyList<ItemPlacement?>> PlaceItems(Immutable<ShardEntry[]> entries)
    {
        using var gate = await Enter(_stateGate);
        var all = await AsStored(entries.Value);
        if (await DeletedSinceWritten(all.Select(e => e.ItemId)) is not { } gone) return await Place(all);
        // Deleted after this write stored them: they stay out, as erased.
        logger.LogInformation("{Count} items deleted since they were written are not placed", gone.Count);
        var placements = await Place([.. all.Where(e => !gone.Contains(e.ItemId))]);
        var answers = new ItemPlacement?[all.Length];
        for (int i = 0, j = 0; i < all.Length; i++)
            if (!gone.Contains(all[i].ItemId)) answers[i] = placements[j++];
        return answers;
    }

    /// <summary>
    /// The entries, each of an item placed lately replaced by what is stored of it now. Of two writes of an item that
    /// cross, the one whose step comes last may carry the older details; both stored before that step came, so what it
    /// reads is the newer. An item not stored now keeps its entry (the deletions' own check decides it).
    /// </summary>
    private async Task<ShardEntry[]> AsStored(ShardEntry[] entries)
    {
        var stored = await StoredIfMetLately(_recentlyPlaced, [.. entries.Select(e => e.ItemId)]);
        return stored.Count == 0 ? entries : [.. entries.Select(e => stored.TryGetValue(e.ItemId, out var details) ? ShardEntry.Written(details) : e)];
    }

    /// <summary>
    /// The stored details of those of <paramref name="itemIds"/> that <paramref name="recent"/> met within its window (an
    /// item not stored now is left out), each of the items then counted as met now.
    /// </summary>
    private async Task<Dictionary<string, ItemDetails>> StoredIfMetLately(RecentItemIds recent, IReadOnlyCollection<string> itemIds)
    {
        var now = DateTimeOffset.UtcNow;
        var crossing = itemIds.Where(id => recent.Contains(id, now)).Distinct(StringComparer.Ordinal).ToArray();
        recent.Add(itemIds, now);
        var stored = await Task.WhenAll(crossing.Select(id => GrainFactory.Item(id).GetDetails()));
        return crossing.Zip(stored).Where(p => p.Second is not null).ToDictionary(p => p.First, p => p.Second!, StringComparer.Ordinal);
    }

    /// <summary>
    /// Of <paramref name="itemIds"/>, those deleted lately whose details are not stored now (a write that stored them
    /// again since keeps them); null when there are none.
    /// </summary>
    private async Task<HashSet<string>?> DeletedSinceWritten(IEnumerable<string> itemIds)
    {
        var now = DateTimeOffset.UtcNow;
        var crossing = itemIds.Where(id => _recentlyDeleted.Contains(id, now)).Distinct(StringComparer.Ordinal).ToArray();
        if (crossing.Length == 0) return null;
        var stored = await Stored(crossing);
        var gone = crossing.Where(id => !stored.Contains(id)).ToHashSet(StringComparer.Ordinal);
        return gone.Count == 0 ? null : gone;
    }

    /// <summary>The items among <paramref name="itemIds"/> (distinct) whose details are stored now, asked of each item.</summary>
    private async Task<HashSet<string>> Stored(string[] itemIds)
    {
        var stored = await Task.WhenAll(itemIds.Select(id => GrainFactory.Item(id).StoredAfterDeletion()));
        return itemIds.Where((_, i) => stored[i]).ToHashSet(StringComparer.Ordinal);
    }

    private async Task<IReadOnlyList<ItemPlacement?>> Place(ShardEntry[] entries)
    {
        if (entries.Length == 0) return [];
        // The windows first: an item written after its expiry is not placed, as a hidden one. The catalogue keeps the
        // windows; a shard's row keeps only when its item becomes available, so that no scan returns it before then
        // even where the silo's copy of the hidden set does not hold it yet.
        await RecordWindows(entries.Select(e => (e.ItemId, (AvailabilityWindow?)new AvailabilityWindow(e.AvailableFrom, e.ExpiresAt))));
        var written = entries.Any(e => e.ExpiresAt is not null) ? entries.Select(e => e with { ExpiresAt = null }).ToArray() : entries;
        // A deleted item written again is a new one.
        var restored = written.Select(e => e.ItemId).Where(_deleted.Contains).Distinct(StringComparer.Ordinal).ToArray();
        if (restored.Length > 0)
        {
            await store.DeleteAsync(DeletedOwner, restored);
            _deleted.ExceptWith(restored);
            HiddenChanged();
        }
        _writtenDuringActivation?.Add(written);
        _deletedDuringActivation?.ExceptWith(written.Select(e => e.ItemId));
        // The seeded popular list carries titles and tags to users without history: it follows every item write.
        if (RefreshedPopular(written) is { } popular) await SavePopular(popular);
        // Text items are remembered first: every activation projects them all. Before the first activation there is
        // nothing to place into: the items are kept (by their grains), and the first version activated looks its items
        // up and places them.
        await RememberTextItems(written);
        if (S.Model is not { } model) return new ItemPlacement?[written.Length];
        var placements = await PlaceUnder(model, _added, _shardRows, written);
        // Item writes reach the candidate's shards as they reach the active version's; the answer is the active version's.
        if (S.Candidate is { Model: var candidate }) await PlaceUnder(candidate, _candidateAdded, _candidateShardRows, written);
        return placements;
    }

    /// <summary>
    /// Places the items in <paramref name="model"/>'s shards and stores the placements of those it adds, then records
    /// them in <paramref name="added"/>; <paramref name="shardRows"/> counts them in, and is counted again from what is
    /// placed when this fails, rather than keep reservations for items that were not placed.
    /// </summary>
    private async Task<ItemPlacement?[]> PlaceUnder(ActiveModel model, Dictionary<string, AddedPlacement> added, int[] shardRows, IReadOnlyList<ShardEntry> written)
    {
        (ItemPlacement?[] Placements, List<KeyValuePair<string, AddedPlacement>> Changed) placed;
        try
        {
            placed = await PlaceInShards(model, models.Get(model.Version), added, shardRows, written);
            await store.WriteAsync(AddedOwner(model), placed.Changed);
        }
        catch
        {
            ShardRowsOf(model, added).CopyTo(shardRows, 0);
            throw;
        }
        foreach (var (itemId, placement) in placed.Changed) added[itemId] = placement;
        return placed.Placements;
    }

    /// <summary>
    /// Places items in <paramref name="model"/>'s shards as <see cref="ItemWritePlan"/> plans them, counting new items
    /// into <paramref name="shardRows"/>. Returns each item's placement (null: it has no vector here) and the added items
    /// whose placement is new or changed, for the caller to store.
    /// </summary>
    private async Task<(ItemPlacement?[] Placements, List<KeyValuePair<string, AddedPlacement>> Changed)> PlaceInShards(
        ActiveModel model, LoadedModel loaded, IReadOnlyDictionary<string, AddedPlacement> added, int[] shardRows, IReadOnlyList<ShardEntry> entries)
    {
        // A hidden or expired item without a row under this version is not given one (a retired item written again, say
        // by a full catalogue sync, stays out of the shards); one with a row keeps it and takes the new title and tags.
        // One not available yet is placed, ready for its time.
        var now = DateTimeOffset.UtcNow;
        var kept = entries.Select(e => !IsRetired(e.ItemId, now) || loaded.DenseIds.ContainsKey(e.ItemId) || added.ContainsKey(e.ItemId)).ToArray();
        var writing = kept.All(k => k) ? entries : entries.Where((_, i) => kept[i]).ToArray();
        // Items the model was not trained on get their vector from their text when the version has a projection.
        var placing = await Task.Run(() => TextProjection.Apply(loaded, writing));
        var plan = ItemWritePlan.Build(model.Shards, loaded.DenseIds, added, shardRows, placing);
        var rows = await Task.WhenAll(plan.PerShard.Select((list, shard) => list.Count == 0
            ? Task.FromResult(Array.Empty<int>())
            : Shard(model, shard).Upsert(new Immutable<ShardEntry[]>(list.Select(x => x.Entry).ToArray()))));
        var (placements, changed) = plan.Resolve(model.Version, rows);
        if (ReferenceEquals(writing, entries)) return (placements, changed);
        var all = new ItemPlacement?[entries.Count];
        for (int i = 0, j = 0; i < entries.Count; i++)
            if (kept[i]) all[i] = placements[j++];
        return (all, changed);
    }

    public Task<ItemPlacement?> GetPlacement(string itemId)
    {
        if (S.Model is not { } model) return Task.FromResult<ItemPlacement?>(null);
        if (models.Get(model.Version).DenseIds.TryGetValue(itemId, out var dense))
            return Task.FromResult<ItemPlacement?>(new ItemPlacement(model.Version, ShardKey.ShardOf(dense, model.Shards), ShardKey.RowOf(dense, model.Shards), dense));
        return Task.FromResult(_added.TryGetValue(itemId, out var added) ? new ItemPlacement(model.Version, added.Shard, added.Row, 0, added.FromText) : null);
    }

    public Task<PlacedItems> PlacedAmong(Immutable<string[]> itemIds) =>
        Task.FromResult(new PlacedItems(S.Model?.Version, S.Model is null ? [] : itemIds.Value.Where(_added.ContainsKey).ToArray()));

    public async Task SetPopular(Immutable<PopularItem[]> items)
    {
        using var gate = await Enter(_stateGate);
        S.Popular = [.. items.Value];
        _popularIndex = null;
        await Save();
    }

    /// <summary>
    /// A new seeded popular list in which the written items have their new title and tags, or null when none of them
    /// changed. A copy: snapshots handed out earlier share the current list and are read while this runs.
    /// </summary>
    private List<PopularItem>? RefreshedPopular(IReadOnlyList<ShardEntry> entries)
    {
        _popularIndex ??= S.Popular.Select((p, i) => (p.ItemId, i)).ToDictionary(x => x.ItemId, x => x.i, StringComparer.Ordinal);
        List<PopularItem>? updated = null;
        foreach (var entry in entries)
        {
            if (!_popularIndex.TryGetValue(entry.ItemId, out var at)) continue;
            var current = S.Popular[at];
            var tags = entry.Tags ?? current.Tags;
            if (current.Title == entry.Title && (tags ?? []).SequenceEqual(current.Tags ?? [], StringComparer.Ordinal)) continue;
            updated ??= [.. S.Popular];
            updated[at] = current with { Title = entry.Title, Tags = tags };
        }
        return updated;
    }

    public async Task SetHidden(Immutable<string[]> hidden, Immutable<string[]> visible)
    {
        using var gate = await Enter(_stateGate);
        // An id in both lists ends up visible, as if the lists were applied one after the other.
        var wanted = new Dictionary<string, bool>(StringComparer.Ordinal);
        // An item deleted after this write stored it keeps no hidden row.
        var gone = await DeletedSinceWritten(hidden.Value);
        foreach (var id in hidden.Value)
            if (gone?.Contains(id) != true) wanted[id] = true;
        foreach (var id in visible.Value) wanted[id] = false;
        // An item flagged lately takes its stored flag, as a placement takes its stored details (AsStored).
        foreach (var (id, details) in await StoredIfMetLately(_recentlyFlagged, [.. wanted.Keys])) wanted[id] = details.Hidden;
        var changes = wanted.Where(w => w.Value != _hidden.Contains(w.Key)).ToArray();
        if (changes.Length == 0) return;
        // The rows first, so that memory never holds a change the store does not; the state is not rewritten.
        await store.WriteAsync(HiddenOwner, changes);
        foreach (var (id, isHidden) in changes)
            if (isHidden) _hidden.Add(id);
            else _hidden.Remove(id);
        HiddenChanged();
    }

    public async Task RemoveItems(Immutable<string[]> itemIds)
    {
        using var gate = await Enter(_stateGate);
        var ids = itemIds.Value.Distinct(StringComparer.Ordinal).ToArray();
        if (ids.Length == 0) return;
        // A write that stored an item again after its details were erased, and told the catalogue before this call
        // came, keeps it: the item is listed as that write placed it.
        var stored = await Stored(ids);
        if (stored.Count > 0)
        {
            logger.LogInformation("{Count} items written again since their deletion stay in the catalogue", stored.Count);
            ids = [.. ids.Where(id => !stored.Contains(id))];
            if (ids.Length == 0) return;
        }
        _recentlyDeleted.Add(ids, DateTimeOffset.UtcNow);
        // Each step writes its rows before memory changes, and a repeat does again only what is left. Only items a
        // serving version was trained on need a place in the hidden set (the shards unlist the others' rows).
        var servingTrained = TrainedByServing();
        var deleted = ids.Where(id => !_deleted.Contains(id) && servingTrained(id)).ToArray();
        if (deleted.Length > 0) await store.WriteAsync(DeletedOwner, deleted.Select(id => KeyValuePair.Create(id, true)).ToArray());
        _deleted.UnionWith(deleted);
        var hidden = ids.Where(_hidden.Contains).ToArray();
        if (hidden.Length > 0)
        {
            await store.DeleteAsync(HiddenOwner, hidden);
            _hidden.ExceptWith(hidden);
        }
        if (deleted.Length > 0 || hidden.Length > 0) HiddenChanged();
        await RecordWindows(ids.Select(id => (id, (AvailabilityWindow?)null)));
        var text = ids.Where(_textItems.Contains).ToArray();
        if (text.Length > 0)
        {
            await store.DeleteAsync(TextItemsOwner, text);
            _textItems.ExceptWith(text);
        }
        // The seeded popular list keeps a deleted item's count (its events stay too) but not its title and tags; the
        // hidden set keeps it out of the lists, and a write puts them back.
        var removed = ids.ToHashSet(StringComparer.Ordinal);
        if (S.Popular.Any(p => removed.Contains(p.ItemId) && (p.Title != p.ItemId || p.Tags is not null || p.AvailableFrom is not null)))
            await SavePopular([.. S.Popular.Select(p => removed.Contains(p.ItemId) ? p with { Title = p.ItemId, Tags = null, AvailableFrom = null } : p)]);
        _deletedDuringActivation?.UnionWith(ids);
        var rows = 0;
        if (S.Model is { } model) rows += await RemoveUnder(model, _added, _shardRows, ids);
        if (S.Candidate is { Model: var candidate }) rows += await RemoveUnder(candidate, _candidateAdded, _candidateShardRows, ids);
        logger.LogInformation("{Count} items deleted from the catalogue ({Rows} shard rows unlisted)", ids.Length, rows);
    }

    /// <summary>
    /// Unlists the items' rows in <paramref name="model"/>'s shards and forgets the placements of those it added
    /// (stored rows first); returns how many rows the shards held.
    /// </summary>
    private async Task<int> RemoveUnder(ActiveModel model, Dictionary<string, AddedPlacement> added, int[] shardRows, IReadOnlyList<string> itemIds)
    {
        var vocabulary = models.Get(model.Version).DenseIds;
        var byShard = itemIds
            .Select(id => (Id: id, Shard: vocabulary.TryGetValue(id, out var dense) ? ShardKey.ShardOf(dense, model.Shards) : added.TryGetValue(id, out var p) ? p.Shard : -1))
            .Where(x => x.Shard >= 0)
            .GroupBy(x => x.Shard)
            .ToArray();
        var held = await Task.WhenAll(byShard.Select(g => Shard(model, g.Key).Remove(new Immutable<string[]>([.. g.Select(x => x.Id)]))));
        var placements = itemIds.Where(added.ContainsKey).ToArray();
        if (placements.Length > 0)
        {
            await store.DeleteAsync(AddedOwner(model), placements);
            foreach (var id in placements)
            {
                shardRows[added[id].Shard]--;
                added.Remove(id);
            }
        }
        return held.Sum();
    }

    /// <summary>Stores a new seeded popular list; memory keeps the one before when the write fails.</summary>
    private async Task SavePopular(List<PopularItem> popular)
    {
        var previous = S.Popular;
        S.Popular = popular;
        _popularIndex = null;
        try
        {
            await Save();
        }
        catch
        {
            S.Popular = previous;
            _popularIndex = null;
            throw;
        }
    }

    /// <summary>
    /// Forgets the deleted items no serving version was trained on: the hidden set no longer needs them, and the seeded
    /// popular list drops them (a rollback to a version trained on one would otherwise list it again).
    /// </summary>
    private async Task ForgetDeletedWithoutRows()
    {
        var servingTrained = TrainedByServing();
        var forgotten = _deleted.Where(id => !servingTrained(id)).ToHashSet(StringComparer.Ordinal);
        if (forgotten.Count == 0) return;
        try
        {
            if (S.Popular.Any(p => forgotten.Contains(p.ItemId))) await SavePopular([.. S.Popular.Where(p => !forgotten.Contains(p.ItemId))]);
            await store.DeleteAsync(DeletedOwner, [.. forgotten]);
            _deleted.ExceptWith(forgotten);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Forgetting {Count} deleted items no serving version was trained on failed; trying again at the next activation", forgotten.Count);
        }
    }

    /// <summary>Hidden, or expired: kept out of the shards of versions not trained on it, until it is written again.</summary>
    private bool IsRetired(string itemId, DateTimeOffset now) => _hidden.Contains(itemId) || _schedule.HasEnded(itemId, now);

    /// <summary>A new token for the hidden set (hidden items and those outside their window), pushed to this silo's cache; the others fetch it.</summary>
    private void HiddenChanged()
    {
        RenewHiddenSet();
        cache.Update(Snapshot());
    }

    /// <summary>The hidden ids are worked out again for the next snapshot, under a new token.</summary>
    private void RenewHiddenSet()
    {
        _hiddenIds = null;
        _hiddenToken++;
    }

    /// <summary>
    /// Takes the availability windows the written items carry (every write gives one or none, replacing what was held):
    /// the rows first, so that memory never holds one the store does not.
    /// </summary>
    private async Task RecordWindows(IEnumerable<(string ItemId, AvailabilityWindow? Window)> windows)
    {
        var changes = _schedule.Changes(windows);
        if (changes.Length == 0) return;
        var set = changes.Where(c => c.Value is not null).Select(c => KeyValuePair.Create(c.Key, c.Value!)).ToArray();
        var cleared = changes.Where(c => c.Value is null).Select(c => c.Key).ToArray();
        if (set.Length > 0) await store.WriteAsync(ScheduleOwner, set);
        if (cleared.Length > 0) await store.DeleteAsync(ScheduleOwner, cleared);
        if (_schedule.Apply(changes, DateTimeOffset.UtcNow)) HiddenChanged();
    }

    /// <summary>Timer: items whose window opens leave the hidden set the snapshots carry, and those whose window closes join it.</summary>
    private async Task OpenAndCloseDue(CancellationToken cancellation)
    {
        if (_schedule.Next is not { } next || next > DateTimeOffset.UtcNow) return;
        using var gate = await Enter(_stateGate);
        if (_schedule.Advance(DateTimeOffset.UtcNow)) HiddenChanged();
    }

    public Task<bool> TryClaimSeeding(string owner)
    {
        if (S.Seeded) return Task.FromResult(false);
        var now = DateTimeOffset.UtcNow;
        if (_seedingClaim is { } claim && claim.Owner != owner && claim.Until > now) return Task.FromResult(false);
        _seedingClaim = (owner, now + SeedingLease);
        cache.Update(Snapshot());
        return Task.FromResult(true);
    }

    public async Task CompleteSeeding(string owner, int itemCount)
    {
        using var gate = await Enter(_stateGate);
        if (_seedingClaim?.Owner != owner) throw new InvalidOperationException($"'{owner}' does not hold the seeding claim.");
        S.Seeded = true;
        S.ItemCount = itemCount;
        _seedingClaim = null;
        await Save();
    }

    /// <summary>
    /// Builds every shard of <paramref name="version"/> (package rows plus the entries carried from the active
    /// version) in parallel, and only when all have answered moves the pointer, in one persisted write. Item writes
    /// go on meanwhile, placed under the active version; those that came while the shards were built are replayed into
    /// the new version's shards as it is committed, the one step during which they wait.
    /// </summary>
    private async Task<ActivationResult> Activate(string version, int shards, bool rollback, double? candidateShare = null)
    {
        if (shards <= 0) shards = options.Value.ResolvedShards;
        // Phase times go to the log, so an operator can see which part a slow activation spends its time in.
        var clock = Stopwatch.StartNew();
        ActiveModel? old;
        using (await Enter(_stateGate))
        {
            if (!S.Models.ContainsKey(version))
            {
                // A package placed in the models directory by hand, or the seed's baseline: registered on first use.
                if (S.DeletedVersions.Contains(version) || !models.Exists(version)) throw new KeyNotFoundException($"Model version '{version}' is not registered.");
                S.Models[version] = Describe(models.Get(version).Package, fallback: !S.Models.Values.Any(m => m.Fallback));
            }
            old = S.Model;
            if (candidateShare is { } share)
            {
                if (old is null) throw new InvalidOperationException("No version is active yet: activate one before serving another beside it.");
                if (old.Version == version) throw new InvalidOperationException($"'{version}' is the active version; a candidate is another version, served to a share of the users.");
                // Already the candidate over these shards: only the share changes.
                if (S.Candidate is { } current && current.Model.Version == version && current.Model.Shards == shards)
                {
                    if (current.Share != share)
                    {
                        S.Candidate = current with { Share = share };
                        try
                        {
                            await Save();
                        }
                        catch
                        {
                            S.Candidate = current;
                            throw;
                        }
                        logger.LogInformation("Model {Version} now served to {Share:P1} of the users (was {Previous:P1})", version, share, current.Share);
                    }
                    return new ActivationResult(current.Model, old.Version, _candidateAdded.Count, [], await NotInCatalogue(current.Model));
                }
            }
            // Already active as asked: nothing changes, and the answer describes the activation that made it so.
            else if (old is not null && old.Version == version && old.Shards == shards)
                return new ActivationResult(old, S.PreviousVersions.LastOrDefault(), _added.Count, [], await NotInCatalogue(old));
            // Taken with the gate: every item write that the entries read below may miss is recorded from here on.
            _writtenDuringActivation = [];
            _deletedDuringActivation = new(StringComparer.Ordinal);
        }
        try
        {
            return await BuildAndCommit(version, shards, rollback, old, clock, candidateShare);
        }
        finally
        {
            _writtenDuringActivation = null;
            _deletedDuringActivation = null;
        }
    }

    private async Task<ActivationResult> BuildAndCommit(string version, int shards, bool rollback, ActiveModel? old, Stopwatch clock, double? candidateShare)
    {
        var loaded = await Task.Run(() => models.Get(version));
        var manifest = loaded.Manifest;
        var target = new ActiveModel(version, manifest.Dimension, manifest.Similarity, shards, manifest.ItemCount, DateTimeOffset.UtcNow);
        _activating = version;
        ShardPlan plan;
        int[][] rows;
        HashSet<string> leftHidden;
        TimeSpan entriesRead, planned;
        try
        {
            // The demo load activates before it writes any item, and then places every one itself.
            var carried = old is null && _seedingClaim is { } claim && claim.Until > DateTimeOffset.UtcNow ? [] : await CarriedEntries(old, loaded);
            // A hidden or expired item the version was not trained on gets no row in it: retired items do not pile up in
            // the shards from one version to the next. Showing it again (a PUT or a batch) places it as any added item.
            // One not available yet gets its row, ready for its time.
            leftHidden = _hidden.Concat(_schedule.Ended(DateTimeOffset.UtcNow)).Where(id => !loaded.DenseIds.ContainsKey(id)).ToHashSet(StringComparer.Ordinal);
            // Every item with a text vector and no trained row gets this version's projection before any shard loads,
            // and an item's own embedding, which the previous version's shards may not hold, is read again.
            var withStored = await WithStoredVectors([.. carried.Where(e => !leftHidden.Contains(e.ItemId))], loaded, leftHidden);
            entriesRead = clock.Elapsed;
            var projected = await Task.Run(() => TextProjection.Apply(loaded, withStored));
            plan = ShardPlan.Build(target, loaded.DenseIds, projected);
            planned = clock.Elapsed;
            rows = await Task.WhenAll(plan.PerShard.Select((entries, i) => Shard(target, i).Prepare(new Immutable<ShardEntry[]>([.. entries]))));
        }
        catch
        {
            _activating = null;
            throw;
        }

        var added = new Dictionary<string, AddedPlacement>(StringComparer.Ordinal);
        for (var shard = 0; shard < plan.PerShard.Length; shard++)
            for (var j = 0; j < plan.PerShard[shard].Count; j++)
                if (!loaded.DenseIds.ContainsKey(plan.PerShard[shard][j].ItemId))
                    added[plan.PerShard[shard][j].ItemId] = new AddedPlacement(shard, rows[shard][j], plan.PerShard[shard][j].Projected);
        var shardRows = plan.ShardRows;
        var shardsReady = clock.Elapsed;

        // Item writes wait from here to the pointer's move.
        string[] notRecommendable;
        int notInCatalogue;
        ModelCandidate? replaced;
        using (await Enter(_stateGate))
        {
            _activating = null;
            var replayed = await Replay(target, loaded, added, shardRows);
            // Items deleted while the shards were built may be in them (read before the deletion): out again.
            if (_deletedDuringActivation is { Count: > 0 } deletedMeanwhile) await RemoveUnder(target, added, shardRows, [.. deletedMeanwhile]);
            var committing = clock.Elapsed;

            // Rows of the version that no entry lists: items the catalogue does not hold (yet).
            notInCatalogue = manifest.ItemCount - plan.PerShard.Sum(entries => entries.Count(e => loaded.DenseIds.ContainsKey(e.ItemId)));

            // Text items the version could not place (no projection, no usable embedding) are not recommendable under it.
            notRecommendable = plan.NotRecommendable
                .Concat(_textItems.Where(id => !loaded.DenseIds.ContainsKey(id)))
                .Where(id => !added.ContainsKey(id) && !leftHidden.Contains(id))
                .Distinct(StringComparer.Ordinal)
                .ToArray();
            // The placements are stored under the new version before the pointer moves to it.
            await store.WriteAsync(AddedOwner(target), added.ToArray(), replaceAll: true);
            var now = DateTimeOffset.UtcNow;
            // A new candidate replaces the one before; an activation ends any, and the next is started against it.
            replaced = S.Candidate;
            if (replaced is not null && replaced.Model.Version != version && S.Models.TryGetValue(replaced.Model.Version, out var replacedInfo))
                S.Models[replaced.Model.Version] = replacedInfo with { State = ModelVersionState.Retired, RetiredAt = now };
            if (candidateShare is { } share)
            {
                S.Candidate = new ModelCandidate(target, share);
                _candidateAdded = added;
                _candidateShardRows = shardRows;
                S.Models[version] = S.Models[version] with { State = ModelVersionState.Candidate, RetiredAt = null };
            }
            else
            {
                S.Candidate = null;
                _candidateAdded = new(StringComparer.Ordinal);
                _candidateShardRows = [];
                S.Model = target;
                _added = added;
                _shardRows = shardRows;
                if (rollback && S.PreviousVersions.LastIndexOf(version) is var at and >= 0) S.PreviousVersions.RemoveAt(at);
                if (old is not null && old.Version != version)
                {
                    if (!rollback) S.PreviousVersions.Add(old.Version);
                    if (S.Models.TryGetValue(old.Version, out var oldInfo)) S.Models[old.Version] = oldInfo with { State = ModelVersionState.Retired, RetiredAt = now };
                }
                S.Models[version] = S.Models[version] with { State = ModelVersionState.Active, ActivatedAt = now, RetiredAt = null };
            }
            // The expired items in the hidden set are those with a row, which the new version changes (the save below
            // pushes the snapshot).
            RenewHiddenSet();
            await Save();
            await ForgetDeletedWithoutRows();
            var total = clock.Elapsed;
            logger.LogInformation("Model {Version} {Role} over {Shards} shards (active before: {Previous}; candidate before: {Candidate}); {Carried} added items carried, "
                + "{Dropped} not recommendable, {Absent} of its items not in the catalogue, {LeftHidden} hidden items left out, {Replayed} items written meanwhile replayed; "
                + "{Total:F0} ms: package and entries read {Read:F0}, projected and planned {Planned:F0}, shards {ShardsReady:F0}, writes replayed {Replay:F0}, saved {Saved:F0}",
                version, candidateShare is { } served ? $"served to {served:P1} of the users" : "active", shards, old?.Version, replaced?.Model.Version, added.Count,
                notRecommendable.Length, notInCatalogue, leftHidden.Count, replayed, total.TotalMilliseconds,
                entriesRead.TotalMilliseconds, (planned - entriesRead).TotalMilliseconds, (shardsReady - planned).TotalMilliseconds,
                (committing - shardsReady).TotalMilliseconds, (total - committing).TotalMilliseconds);
        }

        // Shards that no longer serve drain for the grace, then go; shards the new pointer names serve on.
        if (candidateShare is null && old is not null && AddedOwner(old) != AddedOwner(target)) await Release(old);
        if (replaced is not null && AddedOwner(replaced.Model) != AddedOwner(target)) await Release(replaced.Model);
        return new ActivationResult(target, old?.Version, added.Count, notRecommendable, notInCatalogue);
    }

    /// <summary>
    /// A version's shards no longer serve: its placements of added items are deleted (an activation writes them again)
    /// and its shards deactivate after the retire grace, so that requests that read the old pointer still finish.
    /// </summary>
    private async Task Release(ActiveModel model)
    {
        try
        {
            await store.WriteAsync<AddedPlacement>(AddedOwner(model), [], replaceAll: true);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Deleting the placements of {Version} over {Shards} shards failed; they are replaced when it is activated again", model.Version, model.Shards);
        }
        for (var i = 0; i < model.Shards; i++)
            _ = Shard(model, i).Retire(options.Value.RetireGrace).ContinueWith(
                t => logger.LogWarning(t.Exception, "Retiring a shard of {Version} failed", model.Version), TaskContinuationOptions.OnlyOnFaulted);
    }

    /// <summary>
    /// Places the items written while <paramref name="target"/>'s shards were built into them, as
    /// <see cref="PlaceItems"/> does under the active version; an item written more than once goes in once, merged as
    /// a shard merges its writes. Returns how many items were replayed.
    /// </summary>
    private async Task<int> Replay(ActiveModel target, LoadedModel loaded, Dictionary<string, AddedPlacement> added, int[] shardRows)
    {
        if (_writtenDuringActivation is not { Count: > 0 } written) return 0;
        var latest = ItemWritePlan.Latest(written);
        var (_, changed) = await PlaceInShards(target, loaded, added, shardRows, latest);
        foreach (var (itemId, placement) in changed) added[itemId] = placement;
        return latest.Count;
    }

    /// <summary>
    /// What the active version's shards hold beyond their package rows (titles, tags, added items), plus titles and
    /// tags from the item grains for new-vocabulary items that the active version never held (every item of
    /// <paramref name="next"/> when no version is active). An item no grain knows gets no entry: it is not in the
    /// catalogue, and its row is not recommended.
    /// </summary>
    private async Task<IReadOnlyList<ShardEntry>> CarriedEntries(ActiveModel? old, LoadedModel next)
    {
        var perShard = old is null ? [] : await Task.WhenAll(Enumerable.Range(0, old.Shards).Select(i => Shard(old, i).GetEntries()));
        var entries = perShard.SelectMany(s => s.Value).ToList();
        var known = entries.Select(e => e.ItemId).ToHashSet(StringComparer.Ordinal);
        var missing = next.Manifest.ItemIds.Where(id => !known.Contains(id)).ToArray();
        entries.AddRange((await ReadItemsOnce(missing)).Select(d => new ShardEntry(d.Id, d.Title, null, d.Tags)));
        return entries;
    }

    /// <summary>
    /// The carried entries completed from the item grains (the one place an item's text vector and its own embedding
    /// are kept) for the items outside <paramref name="next"/>'s vocabulary that need them: under a version with a text
    /// projection every text item (shards keep no text vectors), otherwise those whose carried vector cannot serve
    /// <paramref name="next"/> (a projection, another dimension, or none) and may have an embedding that can. Items the
    /// previous version did not place join as new entries; those in <paramref name="leftOut"/> do not.
    /// </summary>
    private async Task<IReadOnlyList<ShardEntry>> WithStoredVectors(IReadOnlyList<ShardEntry> carried, LoadedModel next, IReadOnlySet<string> leftOut)
    {
        var byId = new Dictionary<string, ShardEntry>(StringComparer.Ordinal);
        foreach (var entry in carried) byId[entry.ItemId] = entry;
        var vectorBytes = next.Manifest.Dimension * sizeof(float);
        var missing = _textItems.Where(id => !next.DenseIds.ContainsKey(id) && !leftOut.Contains(id) && (!byId.TryGetValue(id, out var e)
            || (next.HasTextProjection ? e.TextVector is null : e.Projected || e.Vector?.Length != vectorBytes))).ToArray();
        foreach (var d in await ReadItemsOnce(missing))
        {
            // An item's own embedding wins over any projection; TextProjection drops one of another dimension.
            byId[d.Id] = byId.TryGetValue(d.Id, out var known)
                ? known with { TextVector = d.TextVector, Vector = d.Embedding ?? known.Vector, Projected = d.Embedding is null && known.Projected }
                : new ShardEntry(d.Id, d.Title, d.Embedding, d.Tags, d.TextVector);
        }
        return byId.Values.ToArray();
    }

    /// <summary>
    /// The current details of the items (absent: not in the catalogue) for an activation. Bulk-loaded copies are read
    /// from the buckets a block at a time, one query per bucket; each item's grain then answers the newer of that copy
    /// and its own state, and is released when it has none.
    /// </summary>
    private async Task<List<ItemDetails>> ReadItemsOnce(IReadOnlyList<string> itemIds)
    {
        var result = new List<ItemDetails>(itemIds.Count);
        foreach (var block in itemIds.Chunk(BulkLookupBatch))
        {
            var byBucket = block.GroupBy(ItemBuckets.Of).Select(g => (Bucket: g.Key, Ids: g.ToArray())).ToArray();
            var copies = await Task.WhenAll(byBucket.Select(g => GrainFactory.GetGrain<IItemBucketGrain>(g.Bucket).FindMany(new Immutable<string[]>(g.Ids))));
            var bulk = new Dictionary<string, BulkItem>(StringComparer.Ordinal);
            for (var b = 0; b < byBucket.Length; b++)
                for (var j = 0; j < byBucket[b].Ids.Length; j++)
                    if (copies[b].Value[j] is { } copy) bulk[byBucket[b].Ids[j]] = copy;
            foreach (var chunk in block.Chunk(DetailLookupBatch))
            {
                var details = await Task.WhenAll(chunk.Select(id => GrainFactory.Item(id).GetDetailsOnce(bulk.GetValueOrDefault(id))));
                result.AddRange(details.OfType<ItemDetails>());
            }
        }
        return result;
    }

    /// <summary>The active version's rows that no catalogue item lists, counted by its shards.</summary>
    private async Task<int> NotInCatalogue(ActiveModel model) =>
        (await Task.WhenAll(Enumerable.Range(0, model.Shards).Select(i => Shard(model, i).UnlistedCount()))).Sum();

    private IItemShardGrain Shard(ActiveModel model, int index) =>
        GrainFactory.GetGrain<IItemShardGrain>(new ShardKey(model.Version, index, model.Shards).ToString());

    private ModelInfo WithLiveState(ModelInfo info) => info.Version == _activating ? info with { State = ModelVersionState.Activating } : info;

    /// <summary>A package's registry entry, as registered now.</summary>
    public static ModelInfo Describe(ModelPackage package, bool fallback)
    {
        var manifest = package.Manifest;
        return new(manifest.Version, manifest.Kind, manifest.Dimension, manifest.MaxLength, manifest.Similarity, manifest.ItemCount,
            ModelVersionState.Registered, DateTimeOffset.UtcNow, null, fallback, manifest.Metrics, manifest.ItemRepresentation, package.HasTextProjection);
    }

    private static async Task<GateHeld> Enter(SemaphoreSlim gate)
    {
        await gate.WaitAsync();
        return new GateHeld(gate);
    }

    private readonly struct GateHeld(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }

    private async Task Save()
    {
        S.Revision++;
        await state.WriteStateAsync();
        cache.Update(Snapshot());
    }

    /// <summary>The snapshot; the one this silo's cache takes carries the hidden ids, which it reads only when they changed.</summary>
    private CatalogueSnapshot Snapshot(bool withHidden = true) =>
        new(S.Revision, S.Model, S.Popular, S.Seeded, S.ItemCount, Loading: !S.Seeded && _seedingClaim is { } claim && claim.Until > DateTimeOffset.UtcNow,
            Hidden: withHidden ? _hiddenIds ??= HiddenIds() : null, HiddenToken: _hiddenToken, Candidate: S.Candidate);

    /// <summary>The hidden items and those outside their window, less the expired ones without a row under the active version or the candidate.</summary>
    private string[] HiddenIds()
    {
        var servingTrained = TrainedByServing();
        // A deleted item the shards have unlisted needs no place in the set unless a serving version was trained on it,
        // which the popular lists may still name until their copies of its details expire.
        var deleted = _deleted.Where(servingTrained);
        return [.. _hidden.Union(deleted).Union(_schedule.ClosedWithRows(id => servingTrained(id) || _added.ContainsKey(id) || _candidateAdded.ContainsKey(id),
            DateTimeOffset.UtcNow))];
    }

    /// <summary>Whether the active version or the candidate was trained on an item (as of the call).</summary>
    private Func<string, bool> TrainedByServing()
    {
        var trained = S.Model is { } model ? models.Get(model.Version).DenseIds : null;
        var candidate = S.Candidate is { } c ? models.Get(c.Model.Version).DenseIds : null;
        return id => trained?.ContainsKey(id) == true || candidate?.ContainsKey(id) == true;
    }
}

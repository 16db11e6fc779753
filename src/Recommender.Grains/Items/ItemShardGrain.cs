using Recommender.Abstractions;
using Recommender.Grains.Catalogue;
using Recommender.Grains.Inference;

namespace Recommender.Grains.Items;

/// <summary>
/// One partition of a model version's item vectors. On activation it copies its model rows from the package into
/// one contiguous matrix, then replays the entries it persisted (titles, added or re-embedded items), one row each
/// (<see cref="IGrainRowStore"/>), so that placing an item writes that item's row alone. A model row
/// without an entry is an item the catalogue does not have (a package may be trained on more items than the catalogue
/// holds): it is not recommended until the item is added and placed.
/// </summary>
public sealed class ItemShardGrain(
    [PersistentState("shard")] IPersistentState<ShardState> state,
    IGrainRowStore store,
    ModelRegistry models,
    CatalogueCache catalogue,
    Microsoft.Extensions.Options.IOptions<ServingOptions> options) : Grain, IItemShardGrain
{
    private ItemMatrix _matrix = null!;
    private double _temperature = 1;
    private long _hiddenToken;
    private IGrainTimer? _retirement;
    private List<ShardEntry> _entries = null!;
    private Dictionary<string, int> _entryIndex = null!;

    private string RowOwner => EntriesOwner(this.GetPrimaryKeyString());

    /// <summary>The rows of the entries of the shard <paramref name="shardKey"/> (<see cref="IGrainRowStore"/>).</summary>
    public static string EntriesOwner(string shardKey) => $"shard/{shardKey}";

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var legacy = state.RecordExists && !state.State.EntriesInRows;
        state.State.EntriesInRows = true;
        if (legacy)
        {
            // Written by an earlier release: the entries get rows of their own. Copying again after a failure between
            // the two steps writes the same rows.
            await store.WriteAsync(RowOwner, ToRows(state.State.Entries), replaceAll: true, cancellationToken);
            await state.WriteStateAsync(cancellationToken);
        }
        _entries = [.. (await store.ReadAsync<ShardEntry>(RowOwner, cancellationToken)).Select(row => row.Value)];
        Load();
    }

    /// <summary>The package's rows of this shard, then the persisted entries over them.</summary>
    private void Load()
    {
        var key = ShardKey.Parse(this.GetPrimaryKeyString());
        var model = models.Get(key.Version);
        var dimension = model.Manifest.Dimension;
        var matrix = new ItemMatrix(dimension, model.IsCosine);
        _temperature = options.Value.SoftmaxTemperatureFor(model.Manifest.Similarity);
        var ids = model.Manifest.ItemIds;
        for (var dense = key.Index + 1; dense <= ids.Count; dense += key.Count)
            if (state.State.ListsCatalogue) matrix.AddUnlisted(ids[dense - 1], model.Package.ItemVector(dense));
            else matrix.Upsert(ids[dense - 1], ids[dense - 1], model.Package.ItemVector(dense));
        _entryIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < _entries.Count; i++)
        {
            var entry = _entries[i];
            _entryIndex[entry.ItemId] = i;
            Apply(matrix, entry);
        }
        _matrix = matrix;
        _hiddenToken = 0;
    }

    public async Task<Immutable<ScoredItem[]>> TopK(Immutable<byte[]> query, ScanFilter filter)
    {
        await RefreshHidden();
        return new Immutable<ScoredItem[]>(_matrix.TopK(VectorBytes.AsFloats(query.Value), filter.K, filter.Exclude, filter.AnyTags,
            filter.ExcludeTags ?? [], withVectors: filter.Diversity > 0, boosts: Ranking.TagBoosts.Offsets(filter.Boosts, _temperature),
            caps: filter.Caps, capSurvivors: filter.CapSurvivors && filter.Diversity == 0, pinned: filter.Pins?.Select(p => p.ItemId).ToArray(), slots: filter.Slots,
            deepSlots: filter.DeepSlots, fresh: filter.Fresh is { } fresh ? (fresh, _temperature) : null, maxAge: filter.MaxAge));
    }

    public async Task<Immutable<ScoredItem[]>> Latest(ScanFilter filter)
    {
        await RefreshHidden();
        return new Immutable<ScoredItem[]>(_matrix.Latest(filter.Depth, filter.Exclude, filter.AnyTags, filter.ExcludeTags ?? [], filter.MaxAge, filter.Caps, filter.CapSurvivors,
            filter.Slots, filter.DeepSlots));
    }

    public async Task<Immutable<FoundItem[]>> FindTitles(string text, int k)
    {
        await RefreshHidden();
        return new([.. _matrix.FindTitles(text, k).Select(m => new FoundItem(m.ItemId, m.Title, m.Closeness))]);
    }

    public async Task<bool> ListsTag(string tag)
    {
        await RefreshHidden();
        return _matrix.ListsTag(tag);
    }

    /// <summary>Hidden items come with the silo's catalogue snapshot; the rows they map to are worked out once per change.</summary>
    private async Task RefreshHidden()
    {
        await catalogue.GetAsync();
        var hidden = catalogue.Hidden;
        if (hidden.Token == _hiddenToken) return;
        _matrix.SetHidden(hidden.Ids);
        _hiddenToken = hidden.Token;
    }

    // Activation (OnActivateAsync) has loaded the package rows by the time this runs, so the rows returned mean "ready".
    /// <summary>
    /// An activation's plan is the shard's whole content: entries persisted by an earlier activation of this version
    /// that the plan no longer carries (an item since given another vector, or none) are dropped, not replayed.
    /// </summary>
    public async Task<int[]> Prepare(Immutable<ShardEntry[]> entries)
    {
        var planned = entries.Value.Select(e => e.ItemId).ToHashSet(StringComparer.Ordinal);
        var stale = _entries.Any(e => !planned.Contains(e.ItemId));
        var listsCatalogue = state.State.ListsCatalogue;
        if (stale || !listsCatalogue)
        {
            if (stale) _entries.Clear();
            state.State.ListsCatalogue = true;
            Load();
        }
        var rows = Place(entries.Value, out var written);
        // Stale rows go in the same transaction as the plan's.
        await Persist(stale ? ToRows(_entries) : written, replaceAll: stale, writeState: !listsCatalogue);
        return rows;
    }

    public Task<Immutable<ShardEntry[]>> GetEntries() => Task.FromResult(new Immutable<ShardEntry[]>(_entries.ToArray()));

    public Task Retire(TimeSpan grace)
    {
        _retirement?.Dispose();
        _retirement = this.RegisterGrainTimer(_ =>
        {
            DeactivateOnIdle();
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(grace, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        return Task.CompletedTask;
    }

    public async Task<int[]> Upsert(Immutable<ShardEntry[]> entries)
    {
        var rows = Place(entries.Value, out var written);
        await Persist(written, replaceAll: false, writeState: false);
        return rows;
    }

    public async Task<int> Remove(Immutable<string[]> itemIds)
    {
        var key = ShardKey.Parse(this.GetPrimaryKeyString());
        var package = models.Get(key.Version);
        var removed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in itemIds.Value.Distinct(StringComparer.Ordinal))
        {
            var trained = package.DenseIds.TryGetValue(id, out var dense) && ShardKey.ShardOf(dense, key.Count) == key.Index;
            if (!_matrix.Unlist(id, trained ? package.Package.ItemVector(dense) : default)) continue;
            removed.Add(id);
        }
        if (removed.Count == 0) return 0;
        _entries.RemoveAll(e => removed.Contains(e.ItemId));
        _entryIndex = _entries.Select((e, i) => (e.ItemId, i)).ToDictionary(x => x.ItemId, x => x.i, StringComparer.Ordinal);
        try
        {
            await store.DeleteAsync(RowOwner, [.. removed]);
        }
        catch
        {
            // Memory no longer holds the entries the store still does: start again from what is stored.
            DeactivateOnIdle();
            throw;
        }
        return removed.Count;
    }

    private async Task Persist(IReadOnlyList<KeyValuePair<string, ShardEntry>> rows, bool replaceAll, bool writeState)
    {
        try
        {
            await store.WriteAsync(RowOwner, rows, replaceAll);
            if (writeState) await state.WriteStateAsync();
        }
        catch
        {
            // Memory already holds the new rows: start again from what is stored.
            DeactivateOnIdle();
            throw;
        }
    }

    /// <summary>Checks the entries, then puts them in the matrix and the entry list; <paramref name="written"/> gets the entries as stored.</summary>
    private int[] Place(ShardEntry[] entries, out KeyValuePair<string, ShardEntry>[] written)
    {
        foreach (var entry in entries)
        {
            if (entry.Vector is { } v && v.Length != _matrix.Dimension * sizeof(float))
                throw new ArgumentException($"Item '{entry.ItemId}' has a vector of {v.Length / sizeof(float)} values; this model's dimension is {_matrix.Dimension}.");
            if (entry.Vector is null && !_matrix.TryGetRow(entry.ItemId, out _))
                throw new ArgumentException($"Item '{entry.ItemId}' is new to this shard and needs a vector.");
        }
        var rows = new int[entries.Length];
        written = new KeyValuePair<string, ShardEntry>[entries.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            var entry = entries[i];
            rows[i] = Apply(_matrix, entry);
            if (_entryIndex.TryGetValue(entry.ItemId, out var at))
            {
                // Keep an earlier vector when only the title changes.
                var previous = _entries[at];
                _entries[at] = entry.Vector is null ? previous with { Title = entry.Title, Tags = entry.Tags ?? previous.Tags } : entry with { Tags = entry.Tags ?? previous.Tags };
            }
            else
            {
                at = _entries.Count;
                _entryIndex[entry.ItemId] = at;
                _entries.Add(entry);
            }
            written[i] = KeyValuePair.Create(entry.ItemId, _entries[at]);
        }
        return rows;
    }

    private static KeyValuePair<string, ShardEntry>[] ToRows(IEnumerable<ShardEntry> entries) =>
        entries.Select(e => KeyValuePair.Create(e.ItemId, e)).ToArray();

    public Task<Immutable<byte[]>?> GetVector(string itemId) =>
        Task.FromResult<Immutable<byte[]>?>(_matrix.TryGetRow(itemId, out var row) ? new Immutable<byte[]>(VectorBytes.FromFloats(_matrix.Vector(row))) : null);

    public Task<int> Count() => Task.FromResult(_matrix.Count);

    public Task<int> UnlistedCount() => Task.FromResult(_matrix.UnlistedCount);

    public Task<ShardVectors> GetVectors(Immutable<string[]> itemIds)
    {
        var ids = new List<string>();
        var titles = new List<string>();
        var vectors = new List<float>();
        foreach (var id in itemIds.Value)
        {
            if (!_matrix.TryGetRow(id, out var row)) continue;
            ids.Add(id);
            titles.Add(_matrix.Title(row));
            vectors.AddRange(_matrix.Vector(row));
        }
        return Task.FromResult(new ShardVectors([.. ids], [.. titles], VectorBytes.FromFloats(vectors.ToArray())));
    }

    private static int Apply(ItemMatrix matrix, ShardEntry entry) =>
        matrix.Upsert(entry.ItemId, entry.Title, entry.Vector is null ? default : VectorBytes.AsFloats(entry.Vector), entry.Tags, entry.AvailableFrom);
}

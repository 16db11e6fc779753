using Recommender.Abstractions;
using Recommender.Grains.Catalogue;
using Recommender.Grains.Inference;

namespace Recommender.Grains.Items;

/// <summary>
/// One partition of a model version's item vectors. On activation it copies its model rows from the package into
/// one contiguous matrix, then replays the entries it persisted (titles, added or re-embedded items). A model row
/// without an entry is an item the catalogue does not have (a package may be trained on more items than the catalogue
/// holds): it is not recommended until the item is added and placed.
/// </summary>
public sealed class ItemShardGrain(
    [PersistentState("shard")] IPersistentState<ShardState> state,
    ModelRegistry models,
    CatalogueCache catalogue) : Grain, IItemShardGrain
{
    private ItemMatrix _matrix = null!;
    private long _hiddenRevision = -1;
    private IGrainTimer? _retirement;
    private Dictionary<string, int> _entryIndex = null!;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Load();
        return Task.CompletedTask;
    }

    /// <summary>The package's rows of this shard, then the persisted entries over them.</summary>
    private void Load()
    {
        var key = ShardKey.Parse(this.GetPrimaryKeyString());
        var model = models.Get(key.Version);
        var dimension = model.Manifest.Dimension;
        var matrix = new ItemMatrix(dimension, model.IsCosine);
        var ids = model.Manifest.ItemIds;
        for (var dense = key.Index + 1; dense <= ids.Count; dense += key.Count)
            if (state.State.ListsCatalogue) matrix.AddUnlisted(ids[dense - 1], model.Package.ItemVector(dense));
            else matrix.Upsert(ids[dense - 1], ids[dense - 1], model.Package.ItemVector(dense));
        _entryIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < state.State.Entries.Count; i++)
        {
            var entry = state.State.Entries[i];
            _entryIndex[entry.ItemId] = i;
            Apply(matrix, entry);
        }
        _matrix = matrix;
        _hiddenRevision = -1;
    }

    public async Task<Immutable<ScoredItem[]>> TopK(Immutable<byte[]> query, ScanFilter filter)
    {
        // Hidden items come with the silo's catalogue snapshot; the rows they map to are worked out once per revision.
        var snapshot = await catalogue.GetAsync();
        if (snapshot.Revision != _hiddenRevision)
        {
            _matrix.SetHidden(catalogue.Hidden(snapshot));
            _hiddenRevision = snapshot.Revision;
        }
        return new Immutable<ScoredItem[]>(_matrix.TopK(VectorBytes.AsFloats(query.Value), filter.K, filter.Exclude, filter.Tag));
    }

    // Activation (OnActivateAsync) has loaded the package rows by the time this runs, so the rows returned mean "ready".
    /// <summary>
    /// An activation's plan is the shard's whole content: entries persisted by an earlier activation of this version
    /// that the plan no longer carries (an item since given another vector, or none) are dropped, not replayed.
    /// </summary>
    public Task<int[]> Prepare(Immutable<ShardEntry[]> entries)
    {
        var planned = entries.Value.Select(e => e.ItemId).ToHashSet(StringComparer.Ordinal);
        var stale = state.State.Entries.Any(e => !planned.Contains(e.ItemId));
        if (stale || !state.State.ListsCatalogue)
        {
            if (stale) state.State.Entries.Clear();
            state.State.ListsCatalogue = true;
            Load();
        }
        return Upsert(entries);
    }

    public Task<Immutable<ShardEntry[]>> GetEntries() => Task.FromResult(new Immutable<ShardEntry[]>(state.State.Entries.ToArray()));

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
        foreach (var entry in entries.Value)
        {
            if (entry.Vector is { } v && v.Length != _matrix.Dimension * sizeof(float))
                throw new ArgumentException($"Item '{entry.ItemId}' has a vector of {v.Length / sizeof(float)} values; this model's dimension is {_matrix.Dimension}.");
            if (entry.Vector is null && !_matrix.TryGetRow(entry.ItemId, out _))
                throw new ArgumentException($"Item '{entry.ItemId}' is new to this shard and needs a vector.");
        }
        var rows = new int[entries.Value.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            var entry = entries.Value[i];
            rows[i] = Apply(_matrix, entry);
            if (_entryIndex.TryGetValue(entry.ItemId, out var at))
            {
                // Keep an earlier vector when only the title changes.
                var previous = state.State.Entries[at];
                state.State.Entries[at] = entry.Vector is null ? previous with { Title = entry.Title, Tags = entry.Tags ?? previous.Tags } : entry with { Tags = entry.Tags ?? previous.Tags };
            }
            else
            {
                _entryIndex[entry.ItemId] = state.State.Entries.Count;
                state.State.Entries.Add(entry);
            }
        }
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Memory already holds the new rows: start again from what is stored.
            DeactivateOnIdle();
            throw;
        }
        return rows;
    }

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
        matrix.Upsert(entry.ItemId, entry.Title, entry.Vector is null ? default : VectorBytes.AsFloats(entry.Vector), entry.Tags);
}

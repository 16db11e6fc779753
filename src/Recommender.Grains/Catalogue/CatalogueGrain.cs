using Recommender.Abstractions;
using Recommender.Grains.Inference;
using Recommender.Grains.Items;

namespace Recommender.Grains.Catalogue;

/// <summary>
/// The registry singleton: active model version and shard layout, placements of items added after training, the
/// popularity list and the demo-load flag. Request paths read it through <see cref="CatalogueCache"/>.
/// </summary>
public sealed class CatalogueGrain(
    [PersistentState("catalogue")] IPersistentState<CatalogueState> state,
    ModelRegistry models,
    CatalogueCache cache) : Grain, ICatalogueGrain
{
    private static readonly TimeSpan SeedingLease = TimeSpan.FromMinutes(10);
    private (string Owner, DateTimeOffset Until)? _seedingClaim;

    private CatalogueState S => state.State;

    public Task<CatalogueSnapshot> GetSnapshot() => Task.FromResult(Snapshot());

    public async Task<ActiveModel> ActivateModel(string version, int shards)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shards);
        var manifest = models.Get(version).Manifest;
        if (S.Model is { } current && current.Version == version && current.Shards == shards) return current;
        S.Model = new ActiveModel(version, manifest.Dimension, manifest.Similarity, shards, manifest.ItemCount, DateTimeOffset.UtcNow);
        S.Added.Clear();
        S.ShardRows = Enumerable.Range(0, shards).Select(i => (manifest.ItemCount - i + shards - 1) / shards).ToArray();
        await Save();
        return S.Model;
    }

    public async Task<IReadOnlyList<ItemPlacement?>> PlaceItems(Immutable<ShardEntry[]> entries)
    {
        var model = S.Model ?? throw new InvalidOperationException("No model is active, so items cannot be placed.");
        var vocabulary = models.Get(model.Version).DenseIds;
        var result = new ItemPlacement?[entries.Value.Length];
        var perShard = new List<(int Index, ShardEntry Entry, bool IsNew)>[model.Shards];
        for (var i = 0; i < perShard.Length; i++) perShard[i] = [];
        var pendingNew = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Value.Length; i++)
        {
            var entry = entries.Value[i];
            int shard;
            var isNew = false;
            if (vocabulary.TryGetValue(entry.ItemId, out var dense)) shard = ShardKey.ShardOf(dense, model.Shards);
            else if (S.Added.TryGetValue(entry.ItemId, out var added)) shard = added.Shard;
            else if (pendingNew.TryGetValue(entry.ItemId, out var pending)) shard = pending;
            else if (entry.Vector is not null)
            {
                shard = Array.IndexOf(S.ShardRows, S.ShardRows.Min());
                S.ShardRows[shard]++;
                pendingNew[entry.ItemId] = shard;
                isNew = true;
            }
            else continue;
            perShard[shard].Add((i, entry, isNew));
        }

        var calls = perShard.Select((list, shard) => list.Count == 0
            ? Task.FromResult(Array.Empty<int>())
            : GrainFactory.GetGrain<IItemShardGrain>(new ShardKey(model.Version, shard, model.Shards).ToString())
                .Upsert(new Immutable<ShardEntry[]>(list.Select(x => x.Entry).ToArray()))).ToArray();
        int[][] rows;
        try
        {
            rows = await Task.WhenAll(calls);
        }
        catch
        {
            // Recount from what is stored rather than keep reservations for items that were not placed.
            await state.ReadStateAsync();
            throw;
        }

        var changed = false;
        for (var shard = 0; shard < perShard.Length; shard++)
            for (var j = 0; j < perShard[shard].Count; j++)
            {
                var (index, entry, _) = perShard[shard][j];
                var row = rows[shard][j];
                var dense = vocabulary.GetValueOrDefault(entry.ItemId);
                if (dense == 0 && (!S.Added.TryGetValue(entry.ItemId, out var known) || known.Row != row))
                {
                    S.Added[entry.ItemId] = new AddedPlacement(shard, row);
                    changed = true;
                }
                result[index] = new ItemPlacement(model.Version, shard, row, dense);
            }
        if (changed) await state.WriteStateAsync();
        return result;
    }

    public Task<ItemPlacement?> GetPlacement(string itemId)
    {
        if (S.Model is not { } model) return Task.FromResult<ItemPlacement?>(null);
        if (models.Get(model.Version).DenseIds.TryGetValue(itemId, out var dense))
            return Task.FromResult<ItemPlacement?>(new ItemPlacement(model.Version, ShardKey.ShardOf(dense, model.Shards), ShardKey.RowOf(dense, model.Shards), dense));
        return Task.FromResult(S.Added.TryGetValue(itemId, out var added) ? new ItemPlacement(model.Version, added.Shard, added.Row, 0) : null);
    }

    public async Task SetPopular(Immutable<PopularItem[]> items)
    {
        S.Popular = [.. items.Value];
        await Save();
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
        if (_seedingClaim?.Owner != owner) throw new InvalidOperationException($"'{owner}' does not hold the seeding claim.");
        S.Seeded = true;
        S.ItemCount = itemCount;
        _seedingClaim = null;
        await Save();
    }

    private async Task Save()
    {
        S.Revision++;
        await state.WriteStateAsync();
        cache.Update(Snapshot());
    }

    private CatalogueSnapshot Snapshot() =>
        new(S.Revision, S.Model, S.Popular, S.Seeded, S.ItemCount, Loading: !S.Seeded && _seedingClaim is { } claim && claim.Until > DateTimeOffset.UtcNow);
}

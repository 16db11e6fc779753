using Recommender.Abstractions;
using Recommender.Grains.Items;

namespace Recommender.Grains.Catalogue;

/// <summary>
/// Where items written under a version go in its shards: a trained item to its fixed shard (its trained row serves, so
/// any vector given with it is dropped), an added item to the shard it already has, a new item with a vector to the
/// shard with fewest rows. A new item without a vector is not placed. Once the shards have answered with the rows,
/// <see cref="Resolve"/> gives each item's placement and the added items whose placement is new or changed.
/// </summary>
public sealed class ItemWritePlan
{
    private readonly IReadOnlyDictionary<string, int> _vocabulary;
    private readonly IReadOnlyDictionary<string, AddedPlacement> _added;
    private readonly int _count;

    private ItemWritePlan(IReadOnlyDictionary<string, int> vocabulary, IReadOnlyDictionary<string, AddedPlacement> added, List<(int Index, ShardEntry Entry)>[] perShard, int count)
    {
        _vocabulary = vocabulary;
        _added = added;
        PerShard = perShard;
        _count = count;
    }

    /// <summary>The entries each shard is sent, with the index of each in the written list.</summary>
    public IReadOnlyList<(int Index, ShardEntry Entry)>[] PerShard { get; }

    /// <summary>
    /// Plans <paramref name="entries"/> over <paramref name="shards"/> shards. <paramref name="shardRows"/> (rows per
    /// shard) is updated for every new item placed, so that the caller's count stays the shards' own.
    /// </summary>
    public static ItemWritePlan Build(int shards, IReadOnlyDictionary<string, int> vocabulary, IReadOnlyDictionary<string, AddedPlacement> added, int[] shardRows, IReadOnlyList<ShardEntry> entries)
    {
        var perShard = new List<(int Index, ShardEntry Entry)>[shards];
        for (var i = 0; i < shards; i++) perShard[i] = [];
        // A new item written twice in one batch takes one row: the second write goes where the first did.
        var placedNew = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            int shard;
            if (vocabulary.TryGetValue(entry.ItemId, out var dense))
            {
                shard = ShardKey.ShardOf(dense, shards);
                entry = entry with { Vector = null, Projected = false };
            }
            else if (added.TryGetValue(entry.ItemId, out var known)) shard = known.Shard;
            else if (placedNew.TryGetValue(entry.ItemId, out var earlier)) shard = earlier;
            else if (entry.Vector is not null)
            {
                shard = Array.IndexOf(shardRows, shardRows.Min());
                shardRows[shard]++;
                placedNew[entry.ItemId] = shard;
            }
            else continue;
            perShard[shard].Add((i, entry));
        }
        return new ItemWritePlan(vocabulary, added, perShard, entries.Count);
    }

    /// <summary>
    /// Each written item's placement under <paramref name="version"/> (null: not placed) from the rows the shards gave,
    /// <paramref name="rows"/>[s][j] being the row of <see cref="PerShard"/>[s][j]; and the added items whose placement
    /// is new or changed, for the caller to store.
    /// </summary>
    public (ItemPlacement?[] Placements, List<KeyValuePair<string, AddedPlacement>> Changed) Resolve(string version, IReadOnlyList<int[]> rows)
    {
        var placements = new ItemPlacement?[_count];
        var changed = new List<KeyValuePair<string, AddedPlacement>>();
        for (var shard = 0; shard < PerShard.Length; shard++)
            for (var j = 0; j < PerShard[shard].Count; j++)
            {
                var (index, entry) = PerShard[shard][j];
                var row = rows[shard][j];
                var dense = _vocabulary.GetValueOrDefault(entry.ItemId);
                // A write without a vector keeps the item's vector, so it stays from text if it was.
                var fromText = dense == 0 && (entry.Projected || (entry.Vector is null && _added.TryGetValue(entry.ItemId, out var before) && before.FromText));
                var placement = new AddedPlacement(shard, row, fromText);
                if (dense == 0 && (!_added.TryGetValue(entry.ItemId, out var known) || known != placement))
                    changed.Add(KeyValuePair.Create(entry.ItemId, placement));
                placements[index] = new ItemPlacement(version, shard, row, dense, fromText);
            }
        return (placements, changed);
    }

    /// <summary>
    /// One entry per item from batches written in order, as a shard merges its writes: the last title wins, and a write
    /// without a vector, tags or text vector keeps those given before it.
    /// </summary>
    public static IReadOnlyList<ShardEntry> Latest(IEnumerable<IEnumerable<ShardEntry>> batches)
    {
        var latest = new Dictionary<string, ShardEntry>(StringComparer.Ordinal);
        foreach (var entry in batches.SelectMany(batch => batch))
            latest[entry.ItemId] = latest.TryGetValue(entry.ItemId, out var earlier)
                ? entry with { Vector = entry.Vector ?? earlier.Vector, Tags = entry.Tags ?? earlier.Tags, TextVector = entry.TextVector ?? earlier.TextVector }
                : entry;
        return latest.Values.ToArray();
    }
}

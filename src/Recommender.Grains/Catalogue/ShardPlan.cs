using Recommender.Abstractions;
using Recommender.Grains.Items;

namespace Recommender.Grains.Catalogue;

/// <summary>
/// Where the entries carried from the previous version go in a new version's shards: items in the new model's
/// vocabulary go to their fixed shard (keeping their title and tags, the model's own vector replacing any other);
/// items added through the API keep their vector when it has the new dimension (an explicit embedding, or the new
/// version's projection of their text) and go where there is most room; the others cannot be recommended under the
/// new version.
/// </summary>
public sealed class ShardPlan
{
    private ShardPlan(List<ShardEntry>[] perShard, int[] shardRows, List<string> notRecommendable)
    {
        PerShard = perShard;
        ShardRows = shardRows;
        NotRecommendable = notRecommendable;
    }

    public IReadOnlyList<ShardEntry>[] PerShard { get; }

    /// <summary>Rows per shard once the plan is applied.</summary>
    public int[] ShardRows { get; }

    public IReadOnlyList<string> NotRecommendable { get; }

    /// <summary>The model rows of each shard of <paramref name="target"/> (dense id d goes to shard (d − 1) mod shards).</summary>
    public static int[] PackageRows(ActiveModel target) =>
        Enumerable.Range(0, target.Shards).Select(i => (target.ItemCount - i + target.Shards - 1) / target.Shards).ToArray();

    public static ShardPlan Build(ActiveModel target, IReadOnlyDictionary<string, int> vocabulary, IEnumerable<ShardEntry> carried)
    {
        var perShard = Enumerable.Range(0, target.Shards).Select(_ => new List<ShardEntry>()).ToArray();
        var rows = PackageRows(target);
        var notRecommendable = new List<string>();
        var latest = new Dictionary<string, ShardEntry>(StringComparer.Ordinal);
        foreach (var entry in carried) latest[entry.ItemId] = entry;
        var vectorBytes = target.Dimension * sizeof(float);
        foreach (var entry in latest.Values.OrderBy(e => e.ItemId, StringComparer.Ordinal))
        {
            if (vocabulary.TryGetValue(entry.ItemId, out var dense))
                perShard[ShardKey.ShardOf(dense, target.Shards)].Add(entry with { Vector = null, Projected = false });
            else if (entry.Vector is { } v && v.Length == vectorBytes)
            {
                var shard = Array.IndexOf(rows, rows.Min());
                rows[shard]++;
                perShard[shard].Add(entry);
            }
            else if (entry.Vector is not null || entry.TextVector is not null)
                notRecommendable.Add(entry.ItemId);
        }
        return new ShardPlan(perShard, rows, notRecommendable);
    }
}

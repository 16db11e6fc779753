using Recommender.Abstractions;
using Recommender.Grains.Items;

namespace Recommender.Grains.Ranking;

/// <summary>The vectors a model version's shards hold for some items, whichever shard each lives in.</summary>
public static class ItemVectors
{
    /// <summary>Title and vector of each of <paramref name="itemIds"/> that a shard of <paramref name="model"/> holds; the others are left out.</summary>
    public static async Task<Dictionary<string, (string Title, float[] Vector)>> ReadAsync(IGrainFactory grains, ActiveModel model, string[] itemIds)
    {
        var vectors = new Dictionary<string, (string Title, float[] Vector)>(StringComparer.Ordinal);
        if (itemIds.Length == 0) return vectors;
        // An added item may be in any shard, so every shard is asked.
        var perShard = await Task.WhenAll(Enumerable.Range(0, model.Shards).Select(i =>
            grains.GetGrain<IItemShardGrain>(new ShardKey(model.Version, i, model.Shards).ToString()).GetVectors(new Immutable<string[]>(itemIds))));
        foreach (var shard in perShard)
        {
            var all = VectorBytes.AsFloats(shard.Vectors);
            for (var i = 0; i < shard.ItemIds.Length; i++)
                vectors[shard.ItemIds[i]] = (shard.Titles[i], all.Slice(i * model.Dimension, model.Dimension).ToArray());
        }
        return vectors;
    }
}

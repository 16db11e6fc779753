using Recommender.Abstractions;
using Recommender.Grains.Items;

namespace Recommender.Grains.Ranking;

/// <summary>Whether a model version's shards list an item of a tag: a slot the catalogue has no item for is told apart from one the list's filters starve.</summary>
public static class TaggedItems
{
    /// <summary>
    /// True when a shard of <paramref name="model"/> has a row a scan may return carrying <paramref name="tag"/>. The answer
    /// only explains a slot left unfilled, so a shard that cannot tell (one of a release without the call, during a rolling
    /// update) counts as listing none rather than failing the list.
    /// </summary>
    public static async Task<bool> AnyListedAsync(IGrainFactory grains, ActiveModel model, string tag)
    {
        try
        {
            var perShard = await Task.WhenAll(Enumerable.Range(0, model.Shards).Select(i =>
                grains.GetGrain<IItemShardGrain>(new ShardKey(model.Version, i, model.Shards).ToString()).ListsTag(tag)));
            return perShard.Any(listed => listed);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return false;
        }
    }
}

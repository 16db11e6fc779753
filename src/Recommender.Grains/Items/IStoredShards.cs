namespace Recommender.Grains.Items;

/// <summary>Removes what grain storage holds for a deleted model version's shards (the storage-specific part of a deletion).</summary>
public interface IStoredShards
{
    /// <summary>
    /// Deletes the grain-state record of every shard of <paramref name="version"/>, whatever the shard count, in one
    /// statement; returns how many went. Only for a version no silo can activate a shard of any more.
    /// </summary>
    Task<int> DeleteStatesAsync(string version, CancellationToken cancellation = default);
}

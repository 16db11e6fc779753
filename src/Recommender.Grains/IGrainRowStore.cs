namespace Recommender.Grains;

/// <summary>
/// Rows a grain keeps beside its grain state, one per key, for what grows with the catalogue (a shard's entries, the
/// catalogue's placements of added items and its text items) and for records kept only until they are done with (the
/// event journal): a write costs what it changes, not what the owner holds.
/// </summary>
public interface IGrainRowStore
{
    /// <summary>The owner's rows, in the order their keys were first written.</summary>
    Task<IReadOnlyList<KeyValuePair<string, T>>> ReadAsync<T>(string owner, CancellationToken cancellation = default);

    /// <summary>
    /// Inserts or replaces the rows in one transaction; a replaced row keeps its place in the order, and of a key given
    /// twice the last value is kept. With <paramref name="replaceAll"/> the owner's other rows are deleted in the same
    /// transaction.
    /// </summary>
    Task WriteAsync<T>(string owner, IReadOnlyList<KeyValuePair<string, T>> rows, bool replaceAll = false, CancellationToken cancellation = default);

    /// <summary>Deletes the owner's rows with these keys in one transaction; keys without a row are ignored.</summary>
    Task DeleteAsync(string owner, IReadOnlyList<string> keys, CancellationToken cancellation = default);

    /// <summary>
    /// Deletes every row of every owner whose name starts with <paramref name="ownerPrefix"/> (not empty), in one
    /// transaction: what a deleted model version's shards kept, whatever their count. Returns how many rows went.
    /// </summary>
    Task<int> DeleteOwnersAsync(string ownerPrefix, CancellationToken cancellation = default);
}

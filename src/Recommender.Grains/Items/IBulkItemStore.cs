using Recommender.Abstractions;

namespace Recommender.Grains.Items;

/// <summary>
/// Bulk-loaded items, one row each, grouped by <see cref="ItemBuckets.Of"/>. A row per item (rather than one state per
/// bucket) keeps the cost of a bulk write proportional to the items written, whatever the size of the catalogue.
/// </summary>
public interface IBulkItemStore
{
    /// <summary>The ids of every item stored in <paramref name="bucket"/>.</summary>
    Task<IReadOnlyList<string>> IdsInBucketAsync(int bucket, CancellationToken cancellation = default);

    /// <summary>The stored items among <paramref name="itemIds"/>, by id; ids not stored are absent.</summary>
    Task<IReadOnlyDictionary<string, BulkItem>> FindAsync(IReadOnlyCollection<string> itemIds, CancellationToken cancellation = default);

    /// <summary>Inserts or replaces the items, all of <paramref name="bucket"/>, in one transaction: all are stored or none.</summary>
    Task UpsertAsync(int bucket, IReadOnlyList<BulkItem> items, CancellationToken cancellation = default);

    /// <summary>Deletes the rows of the items, in one transaction; ids without a row are passed over.</summary>
    Task DeleteAsync(IReadOnlyList<string> itemIds, CancellationToken cancellation = default);
}

namespace Recommender.Grains.Items;

/// <summary>Reads straight from grain storage which items exist (the storage-specific part of the catalogue export).</summary>
public interface IStoredItems
{
    /// <summary>The id of every item with stored details, bulk-loaded or written one by one, each once, in no particular order.</summary>
    IAsyncEnumerable<string> ListIdsAsync(CancellationToken cancellation);
}

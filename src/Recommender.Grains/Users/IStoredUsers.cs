namespace Recommender.Grains.Users;

/// <summary>Reads straight from grain storage which users have a stored history (the storage-specific part of the directory backfill).</summary>
public interface IStoredUsers
{
    /// <summary>The storage identity of every stored user state that holds data.</summary>
    Task<IReadOnlyList<StoredGrainKey>> ListAsync(CancellationToken cancellation);
}

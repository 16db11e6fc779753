using Orleans.Storage;
using Recommender.Abstractions;
using Recommender.Grains;
using Recommender.Grains.Items;

namespace Recommender.Hosting.Sql;

// The stores a grain reads while it activates: a failure there reaches its callers without passing any grain call
// filter, so it is translated where it happens (StorageFailures). Reads cannot have written anything.

/// <summary>Grain storage whose retryable database failures are <see cref="StorageUnavailableException"/>s.</summary>
public sealed class TranslatingGrainStorage(IGrainStorage inner) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        StorageFailures.RunAsync(() => inner.ReadStateAsync(stateName, grainId, grainState), writes: false);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        StorageFailures.RunAsync(() => inner.WriteStateAsync(stateName, grainId, grainState), writes: true);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        StorageFailures.RunAsync(() => inner.ClearStateAsync(stateName, grainId, grainState), writes: true);

    // The inner storage reads its queries at silo start.
    public void Participate(ISiloLifecycle lifecycle) => (inner as ILifecycleParticipant<ISiloLifecycle>)?.Participate(lifecycle);
}

/// <summary>A grain row store whose retryable database failures are <see cref="StorageUnavailableException"/>s.</summary>
public sealed class TranslatingRowStore(IGrainRowStore inner) : IGrainRowStore
{
    public Task<IReadOnlyList<KeyValuePair<string, T>>> ReadAsync<T>(string owner, CancellationToken cancellation = default) =>
        StorageFailures.RunAsync(() => inner.ReadAsync<T>(owner, cancellation), writes: false);

    public Task WriteAsync<T>(string owner, IReadOnlyList<KeyValuePair<string, T>> rows, bool replaceAll = false, CancellationToken cancellation = default) =>
        StorageFailures.RunAsync(() => inner.WriteAsync(owner, rows, replaceAll, cancellation), writes: true);

    public Task DeleteAsync(string owner, IReadOnlyList<string> keys, CancellationToken cancellation = default) =>
        StorageFailures.RunAsync(() => inner.DeleteAsync(owner, keys, cancellation), writes: true);

    public Task<int> DeleteOwnersAsync(string ownerPrefix, CancellationToken cancellation = default) =>
        StorageFailures.RunAsync(() => inner.DeleteOwnersAsync(ownerPrefix, cancellation), writes: true);
}

/// <summary>A bulk item store whose retryable database failures are <see cref="StorageUnavailableException"/>s.</summary>
public sealed class TranslatingBulkItemStore(IBulkItemStore inner) : IBulkItemStore
{
    public Task<IReadOnlyList<string>> IdsInBucketAsync(int bucket, CancellationToken cancellation = default) =>
        StorageFailures.RunAsync(() => inner.IdsInBucketAsync(bucket, cancellation), writes: false);

    public Task<IReadOnlyDictionary<string, BulkItem>> FindAsync(IReadOnlyCollection<string> itemIds, CancellationToken cancellation = default) =>
        StorageFailures.RunAsync(() => inner.FindAsync(itemIds, cancellation), writes: false);

    public Task UpsertAsync(int bucket, IReadOnlyList<BulkItem> items, CancellationToken cancellation = default) =>
        StorageFailures.RunAsync(() => inner.UpsertAsync(bucket, items, cancellation), writes: true);

    public Task DeleteAsync(IReadOnlyList<string> itemIds, CancellationToken cancellation = default) =>
        StorageFailures.RunAsync(() => inner.DeleteAsync(itemIds, cancellation), writes: true);
}

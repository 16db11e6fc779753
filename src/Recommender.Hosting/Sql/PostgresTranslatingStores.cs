using Orleans.Storage;
using Recommender.Abstractions;
using Recommender.Grains;
using Recommender.Grains.Items;

namespace Recommender.Hosting.Sql;

// The stores a grain reads while it activates: a failure there reaches its callers without passing any grain call
// filter, so it is translated where it happens (PostgresFailures). Reads cannot have written anything.

/// <summary>Grain storage whose transient database failures are <see cref="PostgresUnavailableException"/>s.</summary>
public sealed class PostgresTranslatingGrainStorage(IGrainStorage inner) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        PostgresFailures.RunAsync(() => inner.ReadStateAsync(stateName, grainId, grainState), writes: false);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        PostgresFailures.RunAsync(() => inner.WriteStateAsync(stateName, grainId, grainState), writes: true);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        PostgresFailures.RunAsync(() => inner.ClearStateAsync(stateName, grainId, grainState), writes: true);

    // The inner storage reads its queries at silo start.
    public void Participate(ISiloLifecycle lifecycle) => (inner as ILifecycleParticipant<ISiloLifecycle>)?.Participate(lifecycle);
}

/// <summary>A grain row store whose transient database failures are <see cref="PostgresUnavailableException"/>s.</summary>
public sealed class PostgresTranslatingRowStore(IGrainRowStore inner) : IGrainRowStore
{
    public Task<IReadOnlyList<KeyValuePair<string, T>>> ReadAsync<T>(string owner, CancellationToken cancellation = default) =>
        PostgresFailures.RunAsync(() => inner.ReadAsync<T>(owner, cancellation), writes: false);

    public Task WriteAsync<T>(string owner, IReadOnlyList<KeyValuePair<string, T>> rows, bool replaceAll = false, CancellationToken cancellation = default) =>
        PostgresFailures.RunAsync(() => inner.WriteAsync(owner, rows, replaceAll, cancellation), writes: true);

    public Task DeleteAsync(string owner, IReadOnlyList<string> keys, CancellationToken cancellation = default) =>
        PostgresFailures.RunAsync(() => inner.DeleteAsync(owner, keys, cancellation), writes: true);
}

/// <summary>A bulk item store whose transient database failures are <see cref="PostgresUnavailableException"/>s.</summary>
public sealed class PostgresTranslatingBulkItemStore(IBulkItemStore inner) : IBulkItemStore
{
    public Task<IReadOnlyList<string>> IdsInBucketAsync(int bucket, CancellationToken cancellation = default) =>
        PostgresFailures.RunAsync(() => inner.IdsInBucketAsync(bucket, cancellation), writes: false);

    public Task<IReadOnlyDictionary<string, BulkItem>> FindAsync(IReadOnlyCollection<string> itemIds, CancellationToken cancellation = default) =>
        PostgresFailures.RunAsync(() => inner.FindAsync(itemIds, cancellation), writes: false);

    public Task UpsertAsync(int bucket, IReadOnlyList<BulkItem> items, CancellationToken cancellation = default) =>
        PostgresFailures.RunAsync(() => inner.UpsertAsync(bucket, items, cancellation), writes: true);
}

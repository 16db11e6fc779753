using Orleans.Storage;

namespace Recommender.Hosting.Sql;

/// <summary>
/// Grain storage on a SQLite file with its writes queued behind the project's other writes to that file. SQLite takes
/// one writer at a time, and Microsoft.Data.Sqlite retries a writer that finds the file busy only after sleeping
/// 150 ms: two user grains writing at once cost the second one that sleep. Queued, they cost one write each.
/// Reads are not queued (WAL readers do not wait for writers).
/// </summary>
public sealed class QueuedSqliteGrainStorage(IGrainStorage inner, string connectionString) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private readonly SemaphoreSlim _writer = AdoNetConnections.SqliteWriter(connectionString);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Queued(() => inner.WriteStateAsync(stateName, grainId, grainState));

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Queued(() => inner.ClearStateAsync(stateName, grainId, grainState));

    // The inner storage reads its queries at silo start.
    public void Participate(ISiloLifecycle lifecycle) => ((ILifecycleParticipant<ISiloLifecycle>)inner).Participate(lifecycle);

    private async Task Queued(Func<Task> write)
    {
        await _writer.WaitAsync();
        try
        {
            await write();
        }
        finally
        {
            _writer.Release();
        }
    }
}

using System.Collections.Concurrent;
using System.Data.Common;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.TestingHost;
using Orleans.Storage;
using Microsoft.Extensions.Options;
using Recommender.Hosting;
using Recommender.Hosting.Sql;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// The production grain storage (ADO.NET on the cluster's SQLite file, writes queued) with fault switches for the
/// grains whose keys a test names, until the test switches them off: <see cref="Fail"/> refuses every read, write and
/// clear as a database that cannot be reached does; <see cref="LoseAcknowledgements"/> stores each write and then
/// fails it as a connection lost just after the commit does, and <see cref="FailReads"/> fails reads that way. The
/// silos translate such failures as they do on PostgreSQL. <see cref="StallNextWrite"/> and <see cref="StallNextRead"/>
/// hold one write or read back, as a database under a lock or a lost packet does, before it goes ahead.
/// </summary>
public sealed class FailingGrainStorage(IGrainStorage inner) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    // Static: the cluster's silos run in this process, and each has a storage of its own.
    private static readonly ConcurrentDictionary<string, bool> Failing = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, bool> LosingAcknowledgements = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, bool> FailingReads = new(StringComparer.Ordinal);

    private static readonly ConcurrentDictionary<string, TimeSpan> WriteStalls = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, TimeSpan> ReadStalls = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, int> StoredWrites = new(StringComparer.Ordinal);

    /// <summary>How many writes of the grain's state have been stored in this test run, by every silo's storage (tests use keys of their own).</summary>
    public static int Writes(string grainKey) => StoredWrites.GetValueOrDefault(grainKey);

    public static void Fail(string grainKey) => Failing[grainKey] = true;

    public static void StallNextWrite(string grainKey, TimeSpan stall) => WriteStalls[grainKey] = stall;

    /// <summary>Whether the grain's next write is still to be held: no write of it has begun since <see cref="StallNextWrite"/>.</summary>
    public static bool WriteStallPending(string grainKey) => WriteStalls.ContainsKey(grainKey);

    public static void StallNextRead(string grainKey, TimeSpan stall) => ReadStalls[grainKey] = stall;

    public static void LoseAcknowledgements(string grainKey) => LosingAcknowledgements[grainKey] = true;

    public static void FailReads(string grainKey) => FailingReads[grainKey] = true;

    public static void StopFailing(string grainKey)
    {
        Failing.TryRemove(grainKey, out _);
        LosingAcknowledgements.TryRemove(grainKey, out _);
        FailingReads.TryRemove(grainKey, out _);
        WriteStalls.TryRemove(grainKey, out _);
        ReadStalls.TryRemove(grainKey, out _);
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (ReadStalls.TryRemove(Key(grainId), out var stall)) await Task.Delay(stall);
        await (Refuse(grainId) ?? (FailingReads.ContainsKey(Key(grainId))
            ? Task.FromException(new LostConnectionException($"The connection to the database was lost while reading {grainId}."))
            : inner.ReadStateAsync(stateName, grainId, grainState)));
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var before = grainState.ETag;
        if (WriteStalls.TryRemove(Key(grainId), out var stall)) await Task.Delay(stall);
        await (Refuse(grainId) ?? inner.WriteStateAsync(stateName, grainId, grainState));
        StoredWrites.AddOrUpdate(Key(grainId), 1, (_, count) => count + 1);
        if (LosingAcknowledgements.ContainsKey(Key(grainId)))
        {
            // The write is stored with a new version, but the caller never hears of it: it still holds the old one.
            grainState.ETag = before;
            throw new LostConnectionException($"The connection to the database was lost while storing {grainId}.");
        }
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Refuse(grainId) ?? inner.ClearStateAsync(stateName, grainId, grainState);

    public void Participate(ISiloLifecycle lifecycle) => ((ILifecycleParticipant<ISiloLifecycle>)inner).Participate(lifecycle);

    private static string Key(GrainId grainId) => grainId.Key.ToString()!;

    private static Task? Refuse(GrainId grainId) => Failing.ContainsKey(Key(grainId))
        ? Task.FromException(new ConnectFailedException($"Failed to connect to the database for {grainId}.", new SocketException((int)SocketError.ConnectionRefused)))
        : null;

    /// <summary>What a driver throws for a connection lost mid-statement: a transient database error.</summary>
    private sealed class LostConnectionException(string message) : DbException(message)
    {
        public override bool IsTransient => true;
    }

    /// <summary>What a driver throws when the server refuses the connection: transient, and nothing was sent.</summary>
    private sealed class ConnectFailedException(string message, Exception inner) : DbException(message, inner)
    {
        public override bool IsTransient => true;
    }

    public sealed class Configurator : ISiloConfigurator
    {
        // Registered after the production storage, so this registration is the one resolved, and then wrapped.
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder
            .ConfigureServices(services => services.AddKeyedSingleton<IGrainStorage>(Orleans.Providers.ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME,
                (sp, name) => new FailingGrainStorage(new QueuedSqliteGrainStorage(AdoNetGrainStorageFactory.Create(sp, (string)name!),
                    sp.GetRequiredService<IOptions<RecommenderOptions>>().Value.StorageConnectionString))))
            .AddStorageFailureTranslation();
    }
}

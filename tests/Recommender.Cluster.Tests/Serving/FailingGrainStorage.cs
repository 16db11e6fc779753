using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.TestingHost;
using Orleans.Storage;
using Microsoft.Extensions.Options;
using Recommender.Hosting;
using Recommender.Hosting.Sql;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// The production grain storage (ADO.NET on the cluster's SQLite file, writes queued) with a fault switch: every read, write and clear
/// of a grain whose key the test names fails with a transient database error, as while PostgreSQL is down, until the
/// test switches it off. The silos translate such failures as they do on PostgreSQL.
/// </summary>
public sealed class FailingGrainStorage(IGrainStorage inner) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    // Static: the cluster's silos run in this process, and each has a storage of its own.
    private static readonly ConcurrentDictionary<string, bool> Failing = new(StringComparer.Ordinal);

    public static void Fail(string grainKey) => Failing[grainKey] = true;

    public static void StopFailing(string grainKey) => Failing.TryRemove(grainKey, out _);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Check(grainId) ?? inner.ReadStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Check(grainId) ?? inner.WriteStateAsync(stateName, grainId, grainState);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Check(grainId) ?? inner.ClearStateAsync(stateName, grainId, grainState);

    public void Participate(ISiloLifecycle lifecycle) => ((ILifecycleParticipant<ISiloLifecycle>)inner).Participate(lifecycle);

    private static Task? Check(GrainId grainId) => Failing.ContainsKey(grainId.Key.ToString()!)
        ? Task.FromException(new LostConnectionException($"The connection to the database was lost while storing {grainId}."))
        : null;

    /// <summary>What a driver throws for a dropped connection: a database error that says it is transient.</summary>
    private sealed class LostConnectionException(string message) : DbException(message)
    {
        public override bool IsTransient => true;
    }

    public sealed class Configurator : ISiloConfigurator
    {
        // Registered after the production storage, so this registration is the one resolved.
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder
            .AddPostgresStorageFailureTranslation()
            .ConfigureServices(services => services.AddKeyedSingleton<IGrainStorage>(Orleans.Providers.ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME,
                (sp, name) => new FailingGrainStorage(new QueuedSqliteGrainStorage(AdoNetGrainStorageFactory.Create(sp, (string)name!),
                    sp.GetRequiredService<IOptions<RecommenderOptions>>().Value.StorageConnectionString))));
    }
}

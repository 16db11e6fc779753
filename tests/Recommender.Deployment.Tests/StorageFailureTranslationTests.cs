using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Recommender.Hosting;

namespace Recommender.Deployment.Tests;

/// <summary>
/// <see cref="StorageFailureFilter"/> on a real silo whose grain storage is a PostgreSQL that
/// goes away: the caller gets a <see cref="StorageUnavailableException"/> (not an unserializable
/// driver exception), and the same call succeeds once the database is back.
/// </summary>
public sealed class StorageFailureTranslationTests
{
    [Fact]
    public void A_failure_to_connect_is_told_from_a_connection_lost_mid_statement()
    {
        var refused = new NpgsqlException("Failed to connect to 127.0.0.1:1", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));
        var startingUp = new PostgresException("the database system is starting up", "FATAL", "FATAL", PostgresErrorCodes.CannotConnectNow);
        var lost = new NpgsqlException("Exception while reading from stream", new EndOfStreamException());
        var shutDown = new PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", PostgresErrorCodes.AdminShutdown);
        var reset = new NpgsqlException("Exception while writing to stream", new IOException("reset", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionReset)));

        Assert.True(StorageFailures.CouldNotConnect(refused));
        Assert.True(StorageFailures.CouldNotConnect(startingUp));
        // Found however deep the storage provider wraps it.
        Assert.True(StorageFailures.CouldNotConnect(new AggregateException(new InvalidOperationException("write failed", refused))));
        Assert.False(StorageFailures.CouldNotConnect(lost));
        Assert.False(StorageFailures.CouldNotConnect(shutDown));
        Assert.False(StorageFailures.CouldNotConnect(reset));
        Assert.All(new Exception[] { refused, lost, reset }, e => Assert.NotNull(StorageFailures.TransientDatabaseFailure(e)));
    }

    [Fact]
    public void A_statement_the_server_refused_wrote_nothing_and_a_session_it_ended_may_have()
    {
        var diskFull = new PostgresException("could not extend file: No space left on device", "ERROR", "ERROR", PostgresErrorCodes.DiskFull);
        var outOfMemory = new PostgresException("out of memory", "ERROR", "ERROR", PostgresErrorCodes.OutOfMemory);
        var deadlock = new PostgresException("deadlock detected", "ERROR", "ERROR", PostgresErrorCodes.DeadlockDetected);
        var shutDown = new PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", PostgresErrorCodes.AdminShutdown);

        var full = StorageFailures.Translate(new InvalidOperationException("write failed", diskFull))!;
        Assert.False(full.MayHaveBeenWritten);
        Assert.Equal("The database server's disk is full", full.Reason);
        Assert.Equal("The database server is short of resources", StorageFailures.Translate(outOfMemory)!.Reason);
        Assert.False(StorageFailures.Translate(deadlock)!.MayHaveBeenWritten);
        Assert.True(StorageFailures.Translate(shutDown)!.MayHaveBeenWritten);
        Assert.Equal("The connection to the database broke", StorageFailures.Translate(shutDown)!.Reason);
        // Not transient: a defect, not an outage.
        Assert.Null(StorageFailures.Translate(new PostgresException("syntax error", "ERROR", "ERROR", PostgresErrorCodes.SyntaxError)));
    }

    [Fact]
    public async Task Write_to_a_stopped_database_reaches_the_caller_as_retryable_and_succeeds_after_restart()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var connectionString = await CreateStorageAsync(postgres);
        await using var cluster = await SiloAndClient.StartAsync(connectionString);
        var counter = cluster.Client.GetGrain<ICounterGrain>("outage");
        Assert.Equal(1, await counter.Add(1));

        await postgres.StopAsync(immediate: true);
        // The pool's connections from before the stop break mid-statement ("may have been written"); once they
        // are gone, a new connection is refused, which says that nothing was written.
        var failures = new List<StorageUnavailableException>();
        do
        {
            var failure = await Assert.ThrowsAsync<StorageUnavailableException>(() => counter.Add(1));
            Assert.Contains("retry", failure.Message);
            failures.Add(failure);
        }
        while (failures[^1].MayHaveBeenWritten && failures.Count < 50);
        Assert.False(failures[^1].MayHaveBeenWritten, $"every one of {failures.Count} writes to a stopped database was taken for one that may have been stored");

        await postgres.StartAgainAsync();
        // The silo's connection pool still holds connections from before the restart; they fail once each.
        var total = 0;
        for (var attempt = 0; attempt < 20 && total == 0; attempt++)
        {
            try
            {
                total = await counter.Add(1);
            }
            catch (StorageUnavailableException)
            {
                await Task.Delay(250);
            }
        }
        // The failed writes were not stored, but the grain kept them in memory: the next successful write stores all.
        Assert.Equal(2 + failures.Count, total);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var version = new NpgsqlCommand("SELECT Version FROM OrleansStorage WHERE GrainIdExtensionString = 'outage'", connection);
        Assert.Equal(2, await version.ExecuteScalarAsync());
    }

    /// <summary>
    /// A grain first called while the database is down fails to activate (its state cannot be read). That failure
    /// reaches every caller of the grain for a few seconds, outside any grain call filter, and must still be told as
    /// the database being unavailable, not as an unexpected error.
    /// </summary>
    [Fact]
    public async Task A_grain_activated_while_the_database_is_down_reaches_its_callers_as_retryable_and_activates_after_restart()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var connectionString = await CreateStorageAsync(postgres);
        await using var cluster = await SiloAndClient.StartAsync(connectionString);
        Assert.Equal(1, await cluster.Client.GetGrain<ICounterGrain>("before").Add(1));

        await postgres.StopAsync(immediate: true);
        var counter = cluster.Client.GetGrain<ICounterGrain>("activated-during-outage");
        for (var call = 0; call < 3; call++)
        {
            var failure = await Assert.ThrowsAsync<StorageUnavailableException>(() => counter.Get());
            // Reading the state failed before anything could be written.
            Assert.False(failure.MayHaveBeenWritten, failure.Message);
        }

        await postgres.StartAgainAsync();
        // The failed activation keeps answering for a few seconds before the grain can be activated again.
        var total = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (total == 0)
        {
            try
            {
                total = await counter.Add(5);
            }
            catch (StorageUnavailableException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
        Assert.Equal(5, total);
    }

    /// <summary>
    /// The storage tables in a tablespace on a small disk that fills up: PostgreSQL refuses the write that needs a new
    /// page (53100 disk_full) and rolls it back; the caller is told so, and the same write succeeds once space is freed.
    /// </summary>
    [Fact]
    public async Task A_write_the_database_server_has_no_disk_space_for_is_retryable_wrote_nothing_and_succeeds_once_space_is_freed()
    {
        await using var disk = await SmallDisk.MountAsync(megabytes: 4);
        await using var postgres = await PostgresServer.StartAsync();
        var tablespace = Path.Combine(disk.Path, "tablespace");
        Directory.CreateDirectory(tablespace);
        await postgres.GiveToServerAsync(tablespace);
        await postgres.ExecuteAsync("postgres", $"CREATE TABLESPACE small_disk LOCATION '{tablespace}'");
        await postgres.CreateDatabaseAsync("full_disk");
        await postgres.ExecuteAsync("postgres", "ALTER DATABASE full_disk SET default_tablespace = small_disk");
        await postgres.ExecuteScriptAsync("full_disk", RepositoryPaths.Deploy("postgres", "persistence.sql"));
        var connectionString = new NpgsqlConnectionStringBuilder(postgres.ConnectionString("full_disk")) { Timeout = 3 }.ConnectionString;
        await using var cluster = await SiloAndClient.StartAsync(connectionString);

        disk.Fill(leaveBytes: 0);
        // The table is empty, so the first row needs a page the disk has no room for.
        var counter = cluster.Client.GetGrain<ICounterGrain>("full-disk");
        var failure = await Assert.ThrowsAsync<StorageUnavailableException>(() => counter.Add(1));
        Assert.False(failure.MayHaveBeenWritten, failure.Message);
        Assert.Equal("The database server's disk is full", failure.Reason);
        Assert.Null(await StoredVersionAsync(connectionString, "full-disk"));

        disk.Free();
        // The grain kept the refused amount in memory: the next write stores both.
        Assert.Equal(3, await counter.Add(2));
        Assert.Equal(1, await StoredVersionAsync(connectionString, "full-disk"));
    }

    private static async Task<object?> StoredVersionAsync(string connectionString, string counter)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var version = new NpgsqlCommand("SELECT Version FROM OrleansStorage WHERE GrainIdExtensionString = @counter", connection);
        version.Parameters.AddWithValue("counter", counter);
        return await version.ExecuteScalarAsync();
    }

    private static async Task<string> CreateStorageAsync(PostgresServer postgres)
    {
        await postgres.CreateDatabaseAsync("storage_failure");
        await postgres.ExecuteScriptAsync("storage_failure", RepositoryPaths.Deploy("postgres", "persistence.sql"));
        return new NpgsqlConnectionStringBuilder(postgres.ConnectionString("storage_failure")) { Timeout = 3 }.ConnectionString;
    }

    /// <summary>One silo whose grain storage is the given PostgreSQL database, with the failure translation, and a client of it.</summary>
    private sealed class SiloAndClient(IHost silo, IHost client) : IAsyncDisposable
    {
        public IClusterClient Client => client.Services.GetRequiredService<IClusterClient>();

        public static async Task<SiloAndClient> StartAsync(string connectionString)
        {
            var (siloPort, gatewayPort) = (FreePorts.Next(), FreePorts.Next());
            var silo = Host.CreateDefaultBuilder()
                .ConfigureLogging(logging => logging.ClearProviders())
                .UseOrleans(builder => builder
                    .UseLocalhostClustering(siloPort, gatewayPort)
                    .AddAdoNetGrainStorage(CounterGrain.Storage, options =>
                    {
                        options.Invariant = "Npgsql";
                        options.ConnectionString = connectionString;
                    })
                    .AddStorageFailureTranslation())
                .Build();
            await silo.StartAsync();
            var client = Host.CreateDefaultBuilder()
                .ConfigureLogging(logging => logging.ClearProviders())
                .UseOrleansClient(builder => builder.UseLocalhostClustering(gatewayPort))
                .Build();
            await client.StartAsync();
            return new SiloAndClient(silo, client);
        }

        public async ValueTask DisposeAsync()
        {
            await client.StopAsync();
            await silo.StopAsync();
            client.Dispose();
            silo.Dispose();
        }
    }
}

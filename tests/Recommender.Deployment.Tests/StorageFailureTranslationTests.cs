using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Recommender.Hosting;

namespace Recommender.Deployment.Tests;

/// <summary>
/// <see cref="PostgresStorageFailureFilter"/> on a real silo whose grain storage is a PostgreSQL that
/// goes away: the caller gets a <see cref="PostgresUnavailableException"/> (not an unserializable
/// driver exception), and the same call succeeds once the database is back.
/// </summary>
public sealed class StorageFailureTranslationTests
{
    [Fact]
    public async Task Write_to_a_stopped_database_reaches_the_caller_as_retryable_and_succeeds_after_restart()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await postgres.CreateDatabaseAsync("storage_failure");
        await postgres.ExecuteScriptAsync("storage_failure", RepositoryPaths.Deploy("postgres", "persistence.sql"));
        var connectionString = new NpgsqlConnectionStringBuilder(postgres.ConnectionString("storage_failure")) { Timeout = 3 }.ConnectionString;
        var (siloPort, gatewayPort) = (FreePorts.Next(), FreePorts.Next());

        using var silo = Host.CreateDefaultBuilder()
            .ConfigureLogging(logging => logging.ClearProviders())
            .UseOrleans(builder => builder
                .UseLocalhostClustering(siloPort, gatewayPort)
                .AddAdoNetGrainStorage(CounterGrain.Storage, options =>
                {
                    options.Invariant = "Npgsql";
                    options.ConnectionString = connectionString;
                })
                .AddPostgresStorageFailureTranslation())
            .Build();
        await silo.StartAsync();
        using var client = Host.CreateDefaultBuilder()
            .ConfigureLogging(logging => logging.ClearProviders())
            .UseOrleansClient(builder => builder.UseLocalhostClustering(gatewayPort))
            .Build();
        await client.StartAsync();
        try
        {
            var counter = client.Services.GetRequiredService<IClusterClient>().GetGrain<ICounterGrain>("outage");
            Assert.Equal(1, await counter.Add(1));

            await postgres.StopAsync(immediate: true);
            var failure = await Assert.ThrowsAsync<PostgresUnavailableException>(() => counter.Add(1));
            Assert.Contains("retry", failure.Message);

            await postgres.StartAgainAsync();
            // The silo's connection pool still holds connections from before the restart; they fail once each.
            var total = 0;
            for (var attempt = 0; attempt < 20 && total == 0; attempt++)
            {
                try
                {
                    total = await counter.Add(1);
                }
                catch (PostgresUnavailableException)
                {
                    await Task.Delay(250);
                }
            }
            // The failed write was not stored, but the grain kept it in memory: the next successful write stores both.
            Assert.Equal(3, total);
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var version = new NpgsqlCommand("SELECT Version FROM OrleansStorage WHERE GrainIdExtensionString = 'outage'", connection);
            Assert.Equal(2, await version.ExecuteScalarAsync());
        }
        finally
        {
            await client.StopAsync();
            await silo.StopAsync();
        }
    }
}

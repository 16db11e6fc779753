using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;

namespace Recommender.Deployment.Tests;

/// <summary>
/// A plain Orleans silo and client on the project's PostgreSQL scripts (applied twice, as an upgrade
/// re-run would): ADO.NET clustering plus ADO.NET grain storage with the Npgsql invariant, nothing
/// project-specific in between.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class OrleansOnPostgresTests(PostgresFixture postgres)
{
    private const string Invariant = "Npgsql";

    [Fact]
    public async Task Grain_state_persists_across_a_silo_restart()
    {
        var connectionString = await postgres.Server.CreateClusterDatabaseAsync("orleans_restart", times: 2);
        var cluster = new ClusterOptions { ClusterId = "restart", ServiceId = "deployment-tests" };

        await using (var silo = await StartSilo(connectionString, cluster))
        await using (var client = await StartClient(connectionString, cluster))
        {
            var counter = client.Services.GetRequiredService<IClusterClient>().GetGrain<ICounterGrain>("user-7");
            Assert.Equal(5, await counter.Add(5));
            Assert.Equal(12, await counter.Add(7));
        }

        await using (var silo = await StartSilo(connectionString, cluster))
        await using (var client = await StartClient(connectionString, cluster))
        {
            var counter = client.Services.GetRequiredService<IClusterClient>().GetGrain<ICounterGrain>("user-7");
            Assert.Equal(12, await counter.Get());
            Assert.Equal(13, await counter.Add(1));
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var rows = new NpgsqlCommand("SELECT count(*), max(Version) FROM OrleansStorage WHERE GrainIdExtensionString = 'user-7'", connection);
        await using var reader = await rows.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(1L, reader.GetInt64(0));
        Assert.Equal(3, reader.GetInt32(1));
    }

    [Fact]
    public async Task Two_silos_see_each_other_and_share_the_grains()
    {
        var connectionString = await postgres.Server.CreateClusterDatabaseAsync("orleans_membership", times: 2);
        var cluster = new ClusterOptions { ClusterId = "pair", ServiceId = "deployment-tests" };

        await using var first = await StartSilo(connectionString, cluster);
        await using var second = await StartSilo(connectionString, cluster);
        await using var client = await StartClient(connectionString, cluster);
        var grains = client.Services.GetRequiredService<IClusterClient>();

        var management = grains.GetGrain<IManagementGrain>(0);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        Dictionary<SiloAddress, SiloStatus> active;
        do
        {
            active = await management.GetHosts(onlyActive: true);
        }
        while (active.Count < 2 && DateTime.UtcNow < deadline && await Delay());
        Assert.Equal(2, active.Count);

        var hosts = new HashSet<string>();
        for (var i = 0; i < 40; i++)
        {
            hosts.Add(await grains.GetGrain<ICounterGrain>("spread-" + i).Silo());
        }
        Assert.Equal(2, hosts.Count);

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var rows = new NpgsqlCommand("SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = 'pair' AND Status = 3 AND ProxyPort > 0", connection);
        Assert.Equal(2L, await rows.ExecuteScalarAsync());
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(250);
        return true;
    }

    private static Task<RunningHost> StartSilo(string connectionString, ClusterOptions cluster)
    {
        var host = Host.CreateDefaultBuilder()
            .ConfigureLogging(logging => logging.ClearProviders())
            .UseOrleans(silo => silo
                .Configure<ClusterOptions>(options =>
                {
                    options.ClusterId = cluster.ClusterId;
                    options.ServiceId = cluster.ServiceId;
                })
                .ConfigureEndpoints(IPAddress.Loopback, FreePorts.Next(), FreePorts.Next())
                .UseAdoNetClustering(options =>
                {
                    options.Invariant = Invariant;
                    options.ConnectionString = connectionString;
                })
                .AddAdoNetGrainStorage(CounterGrain.Storage, options =>
                {
                    options.Invariant = Invariant;
                    options.ConnectionString = connectionString;
                }))
            .Build();
        return RunningHost.StartAsync(host);
    }

    private static Task<RunningHost> StartClient(string connectionString, ClusterOptions cluster)
    {
        var host = Host.CreateDefaultBuilder()
            .ConfigureLogging(logging => logging.ClearProviders())
            .UseOrleansClient(client => client
                .Configure<ClusterOptions>(options =>
                {
                    options.ClusterId = cluster.ClusterId;
                    options.ServiceId = cluster.ServiceId;
                })
                .UseAdoNetClustering(options =>
                {
                    options.Invariant = Invariant;
                    options.ConnectionString = connectionString;
                }))
            .Build();
        return RunningHost.StartAsync(host);
    }
}

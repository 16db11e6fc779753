using System.Net.Http.Json;

namespace Recommender.Deployment.Tests;

/// <summary>
/// Three silo processes and one API front end on a private PostgreSQL, shared by the fault scenarios;
/// every scenario starts from that baseline and leaves the cluster in a state it can restore.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public static readonly int[] BaselineSilos = [1, 2, 3];
    private LocalCluster? _cluster;

    public LocalCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster has not started.");

    public IReadOnlyList<string> Items { get; } = Enumerable.Range(1, 40).Select(i => $"fault-item-{i:D3}").ToArray();

    public async Task InitializeAsync()
    {
        _cluster = await LocalCluster.StartDatabaseAsync();
        try
        {
            await StartNodesAsync(_cluster);
        }
        catch
        {
            // Stop what did start: the runner may not dispose a fixture whose start failed.
            await _cluster.DisposeAsync();
            _cluster = null;
            throw;
        }
    }

    private async Task StartNodesAsync(LocalCluster cluster)
    {
        // Silo 1 first, alone: it must advertise a loopback address before any other node may talk to it.
        // It also loads the demo catalogue and activates its model (front ends are ready only once a model is active).
        cluster.StartSilo(1, seedDemo: true);
        var (address, _) = await cluster.WaitSiloActiveAsync(1, 0, TimeSpan.FromSeconds(120));
        if (!LocalCluster.IsLoopback(address))
        {
            await cluster.Silos[1].KillAsync();
            throw new InvalidOperationException(
                $"Silo 1 advertises {address}, not a loopback address, although Orleans__AdvertisedIPAddress=127.0.0.1 is set: " +
                "these tests keep all traffic on loopback, so the silo must honour an advertised-address setting.");
        }
        foreach (var index in BaselineSilos.Skip(1))
        {
            cluster.StartSilo(index);
        }
        await Task.WhenAll(BaselineSilos.Skip(1).Select(i => cluster.WaitSiloActiveAsync(i, 0, TimeSpan.FromSeconds(120))));
        var api = cluster.StartApi();
        await cluster.WaitReadyAsync(api, 180);
        using var response = await cluster.Http.PostAsJsonAsync(new Uri(api.BaseAddress, "/items"),
            Items.Select(id => new { id, title = "Item " + id }).ToArray());
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Silos 1-3 running and active (restarting any that a scenario stopped), no others, the API ready.</summary>
    public async Task RestoreBaselineAsync()
    {
        var cluster = Cluster;
        foreach (var index in cluster.Silos.Keys.Except(BaselineSilos).ToArray())
        {
            await cluster.RetireSiloAsync(index);
        }
        foreach (var index in BaselineSilos)
        {
            if (cluster.Silos[index].HasExited)
            {
                var generation = await cluster.LatestGenerationAsync(index);
                await cluster.Silos[index].DisposeAsync();
                cluster.StartSilo(index);
                await cluster.WaitSiloActiveAsync(index, generation, TimeSpan.FromSeconds(120));
            }
        }
        await cluster.WaitForActiveSilosAsync(BaselineSilos, TimeSpan.FromSeconds(90));
        await cluster.WaitReadyAsync(cluster.Api!, 60);
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "Multi-process cluster";
}

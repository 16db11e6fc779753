using System.Net;
using Npgsql;

namespace Recommender.Deployment.Tests;

/// <summary>
/// A multi-process cluster on loopback, configured exactly like deploy/local-cluster.sh: a private
/// PostgreSQL holding membership and grain state, silo processes with their own silo/gateway/HTTP
/// ports, and an HTTP front end in cluster mode. Beyond the script, every node sends its telemetry to a collector
/// of the tests' own.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    public const string ClusterId = "faults";
    private readonly Dictionary<int, NodeProcess> _silos = [];
    private readonly Dictionary<int, (int Silo, int Gateway, int Http)> _siloPorts = [];
    private readonly string _directory;

    private LocalCluster(PostgresServer postgres, OtlpCollector collector, string connectionString, string directory, string logDirectory)
    {
        LogDirectory = logDirectory;
        Collector = collector;
        Postgres = postgres;
        ConnectionString = connectionString;
        _directory = directory;
        ProbeHttp = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        // Longer than the cluster's own response timeout, so a stalled call surfaces as the API's answer, not a client timeout.
        Http = new HttpClient { Timeout = TimeSpan.FromSeconds(40) };
    }

    public PostgresServer Postgres { get; }

    /// <summary>Where every node sends its telemetry: the silos over OTLP/gRPC, the front end over OTLP/HTTP.</summary>
    public OtlpCollector Collector { get; }

    /// <summary>The cluster database, as the nodes reach it.</summary>
    public string ConnectionString { get; }

    /// <summary>The cluster database for the test's own queries: unpooled, so a database restart leaves no broken connection behind.</summary>
    public string TestConnectionString => new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString;

    /// <summary>For readiness probes, which poll: a short timeout, so a node that does not answer is asked again.</summary>
    public HttpClient ProbeHttp { get; }

    /// <summary>For calls to the API, set-up and traffic alike: a slow answer from a cold or busy cluster is still its answer.</summary>
    public HttpClient Http { get; }

    public NodeProcess? Api { get; private set; }

    public string LogDirectory { get; }

    public IReadOnlyDictionary<int, NodeProcess> Silos => _silos;

    /// <summary>The data directory the nodes share (model packages under models/).</summary>
    public string DataDirectory => Path.Combine(_directory, "data");

    /// <param name="logFolder">Where under artifacts/test-results the nodes' logs go (emptied first), so that one test's cluster keeps another's logs.</param>
    public static async Task<LocalCluster> StartDatabaseAsync(string logFolder = "cluster-logs")
    {
        var postgres = await PostgresServer.StartAsync();
        var connectionString = await postgres.CreateClusterDatabaseAsync("cluster");
        var directory = Path.Combine(Path.GetTempPath(), "recommender-cluster-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path.Combine(directory, "data"));
        // Node logs outlive the run (the data directory does not), for diagnosing a failed scenario.
        var logs = Path.Combine(RepositoryPaths.Root, "artifacts", "test-results", logFolder);
        if (Directory.Exists(logs))
        {
            Directory.Delete(logs, recursive: true);
        }
        Directory.CreateDirectory(logs);
        return new LocalCluster(postgres, await OtlpCollector.StartAsync(), connectionString, directory, logs);
    }

    /// <summary>The settings every node shares (the keys of deploy/docker-compose.yml).</summary>
    private Dictionary<string, string> SharedEnvironment()
    {
        // Short connect and command timeouts so a database outage surfaces as fast failures, not hung requests.
        var connectionString = new NpgsqlConnectionStringBuilder(ConnectionString) { Timeout = 3, CommandTimeout = 5 }.ConnectionString;
        return new Dictionary<string, string>
        {
            ["Orleans__ClusterId"] = ClusterId,
            ["Orleans__ServiceId"] = "recommender",
            ["Recommender__Clustering__Mode"] = "AdoNet",
            ["Recommender__Clustering__Invariant"] = "Npgsql",
            ["Recommender__Clustering__ConnectionString"] = connectionString,
            ["Recommender__Storage__Invariant"] = "Npgsql",
            ["Recommender__Storage__ConnectionString"] = connectionString,
            ["Recommender__DataDirectory"] = DataDirectory,
            ["Recommender__Shards"] = "4",
            // Only requests that arrive with a sampled traceparent are traced, so the scenarios' traffic adds no spans.
            ["OTEL_TRACES_SAMPLER"] = "parentbased_always_off",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "2000",
        };
    }

    /// <summary>Starts silo number <paramref name="index"/> (again on the same ports if it ran before).</summary>
    public NodeProcess StartSilo(int index, bool seedDemo = false)
    {
        if (!_siloPorts.TryGetValue(index, out var ports))
        {
            ports = (FreePorts.Next(), FreePorts.Next(), FreePorts.Next());
            _siloPorts[index] = ports;
        }
        var environment = SharedEnvironment();
        environment["Orleans__SiloPort"] = ports.Silo.ToString();
        environment["Orleans__GatewayPort"] = ports.Gateway.ToString();
        environment["Recommender__SeedDemo"] = seedDemo ? "true" : "false";
        // Silo-to-silo and gateway traffic must stay on loopback.
        environment["Orleans__AdvertisedIPAddress"] = "127.0.0.1";
        environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = Collector.GrpcEndpoint.ToString();
        environment["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id=silo{index}";
        var silo = NodeProcess.Start($"silo{index}", RepositoryPaths.ProjectOutput("Recommender.Silo"), ports.Http, environment, LogDirectory);
        _silos[index] = silo;
        return silo;
    }

    public int SiloPort(int index) => _siloPorts[index].Silo;

    /// <summary>Stops a silo gracefully (if it still runs) and forgets its process; its ports stay reserved for a restart.</summary>
    public async Task RetireSiloAsync(int index)
    {
        if (_silos.Remove(index, out var silo))
        {
            await silo.StopAsync(TimeSpan.FromSeconds(60));
            await silo.DisposeAsync();
        }
    }

    public NodeProcess StartApi()
    {
        var environment = SharedEnvironment();
        environment["Recommender__Mode"] = "Cluster";
        environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = Collector.HttpEndpoint.ToString();
        environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        Api = NodeProcess.Start("api", RepositoryPaths.ProjectOutput("Recommender.Api"), FreePorts.Next(), environment, LogDirectory);
        return Api;
    }

    public Task WaitReadyAsync(NodeProcess node, int seconds = 90) => node.WaitReadyAsync(ProbeHttp, TimeSpan.FromSeconds(seconds));

    /// <summary>
    /// Waits until the silo's current incarnation is active in the membership table (a newer generation
    /// than any earlier one on its port), failing early if the process exits.
    /// </summary>
    public async Task<(string Address, int Generation)> WaitSiloActiveAsync(int index, int previousGeneration, TimeSpan timeout)
    {
        var silo = _silos[index];
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (silo.HasExited)
            {
                throw new InvalidOperationException($"{silo.Name} exited before joining the cluster:\n{silo.Tail()}");
            }
            var member = (await MembershipAsync())
                .Where(m => m.Port == SiloPort(index) && m.Generation > previousGeneration && m.Status == 3)
                .Select(m => (m.Address, m.Generation)).FirstOrDefault();
            if (member.Address is not null)
            {
                return member;
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"{silo.Name} not active after {timeout.TotalSeconds:0} s:\n{silo.Tail()}");
    }

    /// <summary>The newest generation recorded for a silo's port (0 when it never joined).</summary>
    public async Task<int> LatestGenerationAsync(int index) =>
        (await MembershipAsync()).Where(m => m.Port == SiloPort(index)).Select(m => m.Generation).DefaultIfEmpty(0).Max();

    /// <summary>Members as recorded in the membership table: port, generation and status (3 = active, 6 = dead).</summary>
    public async Task<List<(string Address, int Port, int Generation, int Status)>> MembershipAsync()
    {
        await using var connection = new NpgsqlConnection(TestConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT Address, Port, Generation, Status FROM OrleansMembershipTable WHERE DeploymentId = @id", connection);
        command.Parameters.AddWithValue("id", ClusterId);
        await using var reader = await command.ExecuteReaderAsync();
        var members = new List<(string, int, int, int)>();
        while (await reader.ReadAsync())
        {
            members.Add((reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3)));
        }
        return members;
    }

    /// <summary>Waits until exactly the given silos are active in the membership table.</summary>
    public async Task WaitForActiveSilosAsync(IEnumerable<int> indices, TimeSpan timeout)
    {
        var expected = indices.Select(SiloPort).Order().ToArray();
        var deadline = DateTime.UtcNow + timeout;
        int[] active;
        do
        {
            active = (await MembershipAsync()).Where(m => m.Status == 3).Select(m => m.Port).Order().ToArray();
            if (active.SequenceEqual(expected))
            {
                return;
            }
            await Task.Delay(500);
        }
        while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"Active silo ports [{string.Join(", ", active)}], expected [{string.Join(", ", expected)}].");
    }

    public async ValueTask DisposeAsync()
    {
        if (Api is not null)
        {
            await Api.DisposeAsync();
        }
        await Task.WhenAll(_silos.Values.Select(s => s.DisposeAsync().AsTask()));
        ProbeHttp.Dispose();
        Http.Dispose();
        await Postgres.DisposeAsync();
        await Collector.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public static bool IsLoopback(string address) => IPAddress.TryParse(address, out var ip) && IPAddress.IsLoopback(ip);
}

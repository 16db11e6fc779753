using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.TestingHost;
using Recommender.Api;
using Recommender.Hosting;

namespace Recommender.Cluster.Tests.Infrastructure;

/// <summary>How a <see cref="ClusterFixture"/> is built.</summary>
public sealed record ClusterFixtureOptions
{
    /// <summary>Silos in the test cluster (all in this process, sharing one SQLite file).</summary>
    public int Silos { get; init; } = 2;

    public int Shards { get; init; } = 4;

    /// <summary>Load a seed catalogue and model; false starts an empty cluster (started, but never "ready").</summary>
    public bool SeedDemo { get; init; } = true;

    /// <summary>Seed directory in MovieLens layout; null = the bundled ml-latest-small demo.</summary>
    public string? SeedSource { get; init; }

    /// <summary>Dimension of the baseline model built from the seed.</summary>
    public int SeedDimension { get; init; } = 64;

    /// <summary>Data directory (SQLite file and model packages); null = a fresh temporary one, deleted on dispose.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>Extra configuration for silos and API, e.g. "Recommender:HistoryWindow".</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>A directory the fixture deletes when disposed (e.g. a generated seed).</summary>
    public string? TemporaryDirectory { get; init; }

    /// <summary>Orleans service id: grain state is stored under it, so clusters that reuse a data directory must share it.</summary>
    public string ServiceId { get; init; } = "recommender-tests";

    /// <summary>Two silos seeded with a freshly generated <see cref="SmallCatalogue"/> and a dimension-16 baseline.</summary>
    public static ClusterFixtureOptions ForSmallCatalogue(string name) =>
        ForGeneratedSeed(name, directory => SmallCatalogue.Write(Path.Combine(directory, "small")));

    /// <summary>
    /// Two silos seeded with the catalogue <paramref name="writeSeed"/> generates (given the run's directory, it returns
    /// the seed directory) and a dimension-16 baseline, in a temporary directory named after <paramref name="name"/>
    /// that the fixture deletes.
    /// </summary>
    public static ClusterFixtureOptions ForGeneratedSeed(string name, Func<string, string> writeSeed)
    {
        var root = Path.Combine(Path.GetTempPath(), "recommender-tests", name + "-" + Guid.NewGuid().ToString("N"));
        return new ClusterFixtureOptions
        {
            Silos = 2,
            SeedSource = writeSeed(root),
            SeedDimension = 16,
            TemporaryDirectory = root,
        };
    }
}

/// <summary>
/// A real Orleans TestCluster (ADO.NET grain storage on a SQLite file, the production silo configuration) with the
/// HTTP API on Kestrel at 127.0.0.1 as a client of it, and an HttpClient for it. Start with <see cref="StartAsync"/>
/// (or use a subclass as an xunit class fixture); ready means the seed has loaded.
/// </summary>
public class ClusterFixture(ClusterFixtureOptions options) : IAsyncLifetime
{
    private readonly bool _ownsDirectory = options.DataDirectory is null;
    private WebApplication? _api;

    public ClusterFixtureOptions Options { get; } = options;

    public string DataDirectory { get; } = options.DataDirectory ?? Path.Combine(Path.GetTempPath(), "recommender-tests", Guid.NewGuid().ToString("N"));

    public TestCluster Cluster { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The services of the fixture's own front end (its meters, say).</summary>
    public IServiceProvider FrontEndServices => _api?.Services ?? throw new InvalidOperationException("The front end is not running.");

    public IReadOnlyDictionary<string, string?> Configuration => new Dictionary<string, string?>(Options.Settings)
    {
        ["Recommender:DataDirectory"] = DataDirectory,
        ["Recommender:Shards"] = Options.Shards.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Recommender:SeedDemo"] = Options.SeedDemo ? "true" : "false",
        ["Recommender:Seed:Source"] = Options.SeedSource,
        ["Recommender:Seed:Dimension"] = Options.SeedDimension.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public async Task InitializeAsync() => await StartAsync();

    public async Task StartAsync()
    {
        Directory.CreateDirectory(DataDirectory);
        var builder = new TestClusterBuilder((short)Options.Silos);
        builder.Options.ServiceId = Options.ServiceId;
        var settings = Configuration;
        builder.ConfigureHostConfiguration(config => config.AddInMemoryCollection(settings));
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        ConfigureSilos(builder);
        Cluster = builder.Build();
        await Cluster.DeployAsync();

        (_api, BaseAddress) = await StartFrontEndAsync(new Dictionary<string, string?>());
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (Options.SeedDemo) await WaitUntilReadyAsync(Options.ReadyTimeout);
    }

    /// <summary>Adds silo configurators that run after the production configuration, e.g. to wrap one of its services.</summary>
    protected virtual void ConfigureSilos(TestClusterBuilder builder)
    {
    }

    /// <summary>
    /// Starts another HTTP front end of this cluster on Kestrel at 127.0.0.1, with <paramref name="extra"/> on top of
    /// the fixture's settings (e.g. API keys). The caller stops and disposes it.
    /// </summary>
    public async Task<(WebApplication Api, Uri BaseAddress)> StartFrontEndAsync(IReadOnlyDictionary<string, string?> extra)
    {
        var api = RecommenderApi.Build([], web =>
        {
            web.WebHost.UseUrls("http://127.0.0.1:0");
            web.Configuration.AddInMemoryCollection(Configuration);
            web.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Recommender:Mode"] = nameof(HostingMode.External) });
            web.Configuration.AddInMemoryCollection(extra);
            web.Services.AddSingleton(Cluster.Client);
            web.Services.AddSingleton<IGrainFactory>(Cluster.Client);
        });
        await api.StartAsync();
        var address = api.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (api, new Uri(address));
    }

    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            using var response = await Http.GetAsync("/health/ready");
            if (response.IsSuccessStatusCode) return;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"The cluster was not ready within {timeout}: {await response.Content.ReadAsStringAsync()}");
            await Task.Delay(200);
        }
    }

    /// <summary>Stops and starts every secondary silo; grains that lived there reactivate from storage.</summary>
    public async Task RestartSecondarySilosAsync()
    {
        foreach (var silo in Cluster.SecondarySilos.ToList()) await Cluster.RestartSiloAsync(silo);
        await Cluster.WaitForLivenessToStabilizeAsync();
    }

    public async Task<T> GetJsonAsync<T>(string path)
    {
        using var response = await Http.GetAsync(path);
        if (!response.IsSuccessStatusCode) Assert.Fail($"GET {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<T>())!;
    }

    public async Task StopAsync()
    {
        Http?.Dispose();
        if (_api is not null)
        {
            await _api.StopAsync();
            await _api.DisposeAsync();
            _api = null;
        }
        if (Cluster is not null)
        {
            await Cluster.StopAllSilosAsync();
            await Cluster.DisposeAsync();
            Cluster = null!;
        }
        // SQLite keeps pooled connections (and so the file) open until the pools are cleared.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        foreach (var directory in new[] { _ownsDirectory ? DataDirectory : null, Options.TemporaryDirectory })
        {
            if (directory is null || !Directory.Exists(directory)) continue;
            try { Directory.Delete(directory, recursive: true); }
            catch (IOException) { }
        }
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.AddRecommender(siloBuilder.Configuration);
    }
}

/// <summary>Two silos seeded with the generated <see cref="SmallCatalogue"/> (seconds to load).</summary>
/// <summary>
/// The small catalogue's cluster. Its encoder waits 5 ms for a batch to fill rather than taking only what is queued (the
/// default), so that concurrent requests meet in one batch however fast the machine runs them (<c>SessionTests</c>).
/// </summary>
public sealed class SmallCatalogueCluster() : ClusterFixture(ClusterFixtureOptions.ForSmallCatalogue("small-catalogue") with
{
    Settings = new Dictionary<string, string?> { ["Recommender:Inference:BatchWindow"] = "00:00:00.005" },
});

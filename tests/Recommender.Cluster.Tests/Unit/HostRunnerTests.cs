using Microsoft.Extensions.Configuration;
using Recommender.Api;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Hosting;

namespace Recommender.Cluster.Tests.Unit;

/// <summary>A node started with a bad setting stops with a configuration error and exit code 2, not an unhandled exception.</summary>
public sealed class HostRunnerTests
{
    [Theory]
    [InlineData("Recommender:Shards", "5000", "Recommender:Shards must be 0 (automatic) to 1024, not 5000.")]
    [InlineData("Recommender:Mode", "Bogus", "Recommender:Mode must be Embedded or Cluster or External, not 'Bogus'.")]
    // The binder would take a number for an enum, here a mode that does not exist.
    [InlineData("Recommender:Mode", "-1", "Recommender:Mode must be Embedded or Cluster or External, not '-1'.")]
    [InlineData("Recommender:Clustering:Mode", "1", "Recommender:Clustering:Mode must be Localhost or AdoNet, not '1'.")]
    // Orleans would throw at start on a provider it does not know, and on a connection string that does not parse.
    [InlineData("Recommender:Storage:Invariant", "npgsql", "Recommender:Storage:Invariant must be System.Data.SQLite or Npgsql (spelt so), not 'npgsql'.")]
    [InlineData("Recommender:Clustering:Invariant", "MySql.Data.MySqlClient", "Recommender:Clustering:Invariant must be Npgsql (spelt so), not 'MySql.Data.MySqlClient'.")]
    [InlineData("Recommender:Storage:ConnectionString", "abc", "Recommender:Storage:ConnectionString is not a connection string of key=value pairs: ")]
    [InlineData("Recommender:Clustering:ConnectionString", "Host=db;Password", "Recommender:Clustering:ConnectionString is not a connection string of key=value pairs: ")]
    [InlineData("Orleans:ClusterId", " ", "Orleans:ClusterId must not be empty.")]
    [InlineData("Orleans:ServiceId", "", "Orleans:ServiceId must not be empty.")]
    // These were read only when a grain first needed them: the node started, and a batch of none never closed.
    [InlineData("Recommender:Inference:MaxBatch", "0", "Recommender:Inference:MaxBatch must be at least 1, not 0.")]
    [InlineData("Recommender:Inference:BatchWindow", "00:00:05", "Recommender:Inference:BatchWindow must be from 0 to 00:00:01, not 00:00:05.")]
    [InlineData("Recommender:Inference:IntraOpThreads", "-1", "Recommender:Inference:IntraOpThreads must be 0 (automatic) to 1024, not -1.")]
    [InlineData("Recommender:Inference:UnloadCheckInterval", "-00:00:01", "Recommender:Inference:UnloadCheckInterval must be above zero and at most a day (such as 00:00:10), not -00:00:01.")]
    [InlineData("Recommender:Inference:MaxBatch", "abc", "Failed to convert configuration value 'abc' at 'Recommender:Inference:MaxBatch' to type 'System.Int32'.")]
    [InlineData("Recommender:TextEncoder:MaxBatch", "-1", "Recommender:TextEncoder:MaxBatch must be at least 1, not -1.")]
    [InlineData("Recommender:TextEncoder:BatchWindow", "-00:00:01", "Recommender:TextEncoder:BatchWindow must be from 0 to 00:00:01, not -00:00:01.")]
    [InlineData("Recommender:TextEncoder:IntraOpThreads", "5000", "Recommender:TextEncoder:IntraOpThreads must be 0 (automatic) to 1024, not 5000.")]
    [InlineData("Recommender:CatalogueCacheTtl", "-00:00:01", "Recommender:CatalogueCacheTtl must be from 0 to a day (such as 00:00:30), not -00:00:01.")]
    [InlineData("Recommender:RetireGrace", "2.00:00:00", "Recommender:RetireGrace must be from 0 to a day (such as 00:00:30), not 2.00:00:00.")]
    [InlineData("Recommender:Shards", "abc", "Failed to convert configuration value 'abc' at 'Recommender:Shards' to type 'System.Int32'. The input string 'abc' was not in a correct format.")]
    [InlineData("Recommender:ApiKeys:Admin", "short", "The key in Recommender:ApiKeys:Admin has 5 characters; a key has 16 to 256 (for example: openssl rand -hex 32).")]
    [InlineData("Recommender:RetireGrace", "abc", "Failed to convert configuration value 'abc' at 'Recommender:RetireGrace' to type 'System.TimeSpan'. abc is not a valid value for TimeSpan.")]
    [InlineData("Recommender:CallAttemptTimeout", "00:00:00", "Recommender:CallAttemptTimeout must be a time span above zero and at most 00:10:00 (such as 00:00:10), not 00:00:00.")]
    [InlineData("Recommender:CallAttemptTimeout", "1.00:00:00", "Recommender:CallAttemptTimeout must be a time span above zero and at most 00:10:00 (such as 00:00:10), not 1.00:00:00.")]
    [InlineData("Recommender:KnownItemCacheSize", "-1", "Recommender:KnownItemCacheSize must be 0 (no cache) to 10000000 item ids, not -1.")]
    [InlineData("Recommender:KnownItemLifetime", "00:00:00", "Recommender:KnownItemLifetime must be a time span above zero and at most a day (such as 00:05:00), not 00:00:00.")]
    [InlineData("Recommender:DefaultScenario", "home page", "Recommender:DefaultScenario is a scenario's name, which may hold only ASCII letters, digits, '-', '_' and '.' (such as home-page or cart.upsell); 'home page' is not.")]
    [InlineData("Recommender:RateLimit:RequestsPerSecond", "-1", "Recommender:RateLimit:RequestsPerSecond must be 0 (no limit) to 1000000, not -1.")]
    [InlineData("Recommender:RateLimit:Burst", "0", "Recommender:RateLimit:Burst must be 1 to 1000000 requests, not 0.")]
    [InlineData("Recommender:RateLimit:Burst", "10", "Recommender:RateLimit:Burst is set but Recommender:RateLimit:RequestsPerSecond is not: set the rate too, or remove the burst.")]
    [InlineData("Recommender:RateLimit:PerSecond", "10", "Recommender:RateLimit:PerSecond is not a setting; the settings are Recommender:RateLimit:RequestsPerSecond, Recommender:RateLimit:Burst and Recommender:RateLimit:Scope.")]
    [InlineData("Recommender:RateLimit:Scope", "Global", "Recommender:RateLimit:Scope must be FrontEnd (each front end counts on its own) or Cluster (all front ends together), not 'Global'.")]
    [InlineData("Recommender:Cors:AllowedOrigins", "https://shop.example/cart", "Recommender:Cors:AllowedOrigins holds 'https://shop.example/cart', which is not a web origin: give scheme, host and port only, such as https://shop.example or http://localhost:3000.")]
    [InlineData("Recommender:Cors:AllowedOrigins", "*,https://shop.example", "Recommender:Cors:AllowedOrigins lists '*' beside other origins: '*' (every origin) stands alone.")]
    [InlineData("Recommender:Cors:AllowedOrigins", "https://shop.example?x=1", "Recommender:Cors:AllowedOrigins holds 'https://shop.example?x=1', which is not a web origin")]
    [InlineData("Recommender:Cors:AllowedOrigins", "", "Recommender:Cors:AllowedOrigins holds an empty origin: give origins such as https://shop.example, or remove the setting.")]
    [InlineData("Recommender:Cors:Origins", "https://shop.example", "Recommender:Cors:Origins is not a setting; the setting is Recommender:Cors:AllowedOrigins.")]
    [InlineData("Orleans:Messaging:ResponseTimeout", "00:00:00", "Orleans:Messaging:ResponseTimeout must be a positive time span (such as 00:00:10), not 00:00:00.")]
    [InlineData("Orleans:Membership:NumMissedProbesLimit", "0", "Orleans:Membership:NumMissedProbesLimit must be at least 1, not 0.")]
    [InlineData("Orleans:Membership:ProbeTimeout", "abc", "Failed to convert configuration value 'abc' at 'Orleans:Membership:ProbeTimeout' to type 'System.TimeSpan'.")]
    public async Task The_api_with_a_bad_setting_exits_with_code_2_and_names_it(string key, string value, string message)
    {
        var directory = Path.Combine(Path.GetTempPath(), "recommender-tests", "runner-" + Guid.NewGuid().ToString("N"));
        string[] args = [$"--{key}={value}", $"--Recommender:DataDirectory={directory}", "--urls=http://127.0.0.1:0"];
        Exception? thrown = null;
        try
        {
            var app = RecommenderApi.Build(args);
            await app.StartAsync();
            await app.StopAsync();
        }
        catch (Exception e)
        {
            thrown = e;
        }
        Assert.NotNull(thrown);
        Assert.StartsWith(message, HostRunner.Describe(thrown));

        Assert.Equal(HostRunner.ConfigurationErrorExitCode, await HostRunner.RunAsync(() => RecommenderApi.Build(args)));
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
    }

    [Theory]
    [InlineData("http://127.0.0.1:99999", "The listen address 'http://127.0.0.1:99999' is not an http(s) URL with a valid port")]
    [InlineData("http://127.0.0.1:abc", "The listen address 'http://127.0.0.1:abc' is not an http(s) URL with a valid port")]
    [InlineData("notaurl", "The listen address 'notaurl' is not an http(s) URL")]
    [InlineData("ftp://127.0.0.1:21", "The listen address 'ftp://127.0.0.1:21' is not an http(s) URL")]
    [InlineData(" ", "The listen addresses (urls) ' ' hold no address")]
    [InlineData(";", "The listen addresses (urls) ';' hold no address")]
    public void A_listen_address_that_is_not_an_http_url_with_a_valid_port_is_refused(string urls, string message) =>
        Assert.StartsWith(message, HostRunner.Preflight(Configuration(new() { ["urls"] = urls }), hostsSilo: false));

    [Fact]
    public void Ports_already_in_use_and_orleans_ports_out_of_range_are_refused_and_free_ones_pass()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Any, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        Assert.Equal($"Port {port} (listen address http://127.0.0.1:{port}) is already in use: is another node running on this machine?",
            HostRunner.Preflight(Configuration(new() { ["urls"] = $"http://127.0.0.1:{port}" }), hostsSilo: false));
        Assert.Equal($"Port {port} (Orleans:GatewayPort) is already in use: is another node running on this machine?",
            HostRunner.Preflight(Configuration(new() { ["urls"] = "http://127.0.0.1:0", ["Orleans:SiloPort"] = LoopbackPorts.Free().ToString(), ["Orleans:GatewayPort"] = port.ToString() }), hostsSilo: true));
        // A node without a silo does not need the Orleans ports.
        Assert.Null(HostRunner.Preflight(Configuration(new() { ["urls"] = "http://127.0.0.1:0;http://*:0", ["Orleans:GatewayPort"] = port.ToString() }), hostsSilo: false));
        Assert.Equal("Orleans:SiloPort must be a port number from 1 to 65535, not 70000.",
            HostRunner.Preflight(Configuration(new() { ["Orleans:SiloPort"] = "70000" }), hostsSilo: true));
    }

    private static Microsoft.Extensions.Configuration.IConfiguration Configuration(Dictionary<string, string?> values) =>
        new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(values).Build();

    [Fact]
    public void Other_exceptions_are_not_taken_for_configuration_errors()
    {
        Assert.Null(HostRunner.Describe(new InvalidOperationException("Something else.")));
        Assert.Null(HostRunner.Describe(new IOException("Disk full.")));
    }
}

using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Runtime;
using Xunit.Abstractions;

namespace Recommender.Deployment.Tests;

/// <summary>
/// Faults injected into a running multi-process cluster under simulated traffic (loopback only,
/// bounded loops): a crashed silo, a silo added, a database outage and a graceful silo stop. Each
/// scenario audits every user's history against what the API acknowledged and publishes its figures
/// (see <see cref="ScenarioReport"/>).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterFaultTests(ClusterFixture fixture, ITestOutputHelper output)
{
    private const int Workers = 6;
    private LocalCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Crashed_silo_is_detected_the_api_recovers_and_no_acknowledged_event_is_lost()
    {
        await fixture.RestoreBaselineAsync();
        var traffic = NewTraffic("crash");
        // Beside it, a client that resends what was not acknowledged under the request's Idempotency-Key, and batches
        // for two users each, whose journal partition or users may be on the killed silo.
        using var keyed = NewKeyedRetryTraffic("crash");
        var batches = new BatchTraffic(Cluster.Http, Cluster.Api!.BaseAddress, Enumerable.Range(0, 20).Select(i => $"crash-batch-user-{i:D2}").ToArray(), fixture.Items);
        var run = Task.WhenAll(traffic.RunAsync(TimeSpan.FromSeconds(45), Workers), keyed.RunAsync(TimeSpan.FromSeconds(40), 2, TimeSpan.FromSeconds(60)),
            batches.RunAsync(TimeSpan.FromSeconds(40), 2));
        await Task.Delay(TimeSpan.FromSeconds(6));
        var faultAt = traffic.Now;
        await Cluster.Silos[2].KillAsync();
        await run;

        var report = await Publish("kill -9 one of three silos", traffic, faultAt);
        AssertNothingLost(report);
        AssertServingAtTheEnd(traffic, TimeSpan.FromSeconds(5));
        await AssertKeyedRequestsStoredOnceAsync("kill -9 one of three silos", keyed);
        var batchAudit = await batches.AuditAsync(TimeSpan.FromSeconds(30));
        PublishLine("kill -9 one of three silos", batchAudit);
        Assert.Equal(0, batchAudit.Failed);
        Assert.Equal(0, batchAudit.EventsMissing);
        Assert.Equal(0, batchAudit.EventsDuplicated);
        Assert.Equal(0, batchAudit.RefusedButWritten);

        // The membership table records the crashed incarnation as dead; a restarted silo rejoins as a new one.
        await Cluster.WaitForActiveSilosAsync([1, 3], TimeSpan.FromSeconds(30));
        var crashedGeneration = await Cluster.LatestGenerationAsync(2);
        await Cluster.Silos[2].DisposeAsync();
        Cluster.StartSilo(2);
        await Cluster.WaitSiloActiveAsync(2, crashedGeneration, TimeSpan.FromSeconds(120));
        await Cluster.WaitForActiveSilosAsync(ClusterFixture.BaselineSilos, TimeSpan.FromSeconds(60));
        var incarnations = (await Cluster.MembershipAsync()).Where(m => m.Port == Cluster.SiloPort(2)).ToList();
        Assert.Contains(incarnations, m => m.Status == 6);
        Assert.Contains(incarnations, m => m.Status == 3);
        Assert.All(await Cluster.MembershipAsync(), m => Assert.True(LocalCluster.IsLoopback(m.Address), $"silo advertises {m.Address}"));

        // How the requests caught by the crash failed, and for how long.
        Assert.True(report.RecoverySeconds < 40, $"The API still failed requests {report.RecoverySeconds} s after the crash.");
        AssertFailuresWereRetryable(report);
    }

    [Fact]
    public async Task Silo_added_under_load_takes_a_share_of_the_grains()
    {
        await fixture.RestoreBaselineAsync();
        var traffic = NewTraffic("grow");
        var run = traffic.RunAsync(TimeSpan.FromSeconds(30), Workers);
        await Task.Delay(TimeSpan.FromSeconds(4));
        var faultAt = traffic.Now;
        var previous = Cluster.Silos.ContainsKey(4) ? await Cluster.LatestGenerationAsync(4) : 0;
        Cluster.StartSilo(4);
        await Cluster.WaitSiloActiveAsync(4, previous, TimeSpan.FromSeconds(120));
        await Cluster.WaitForActiveSilosAsync([1, 2, 3, 4], TimeSpan.FromSeconds(60));
        // New users arriving after the join are placed across all four silos, once the silos have had a few
        // seconds to exchange load statistics (placement weighs them, and a just-started silo has none).
        await Task.Delay(TimeSpan.FromSeconds(5));
        var late = NewTraffic("grow-late", users: 150);
        await Task.WhenAll(run, late.RunAsync(TimeSpan.FromSeconds(10), Workers));

        var report = await Publish("4th silo joins under load", traffic, faultAt);
        AssertNothingLost(report);
        Assert.Equal(0, report.Failed);
        var lateReport = await Publish("users arriving after the 4th silo joined", late, null);
        AssertNothingLost(lateReport);

        var activations = await ActivationsPerSiloAsync();
        output.WriteLine("activations per silo port: " + string.Join(", ", activations.Select(a => $"{a.Key}={a.Value}")));
        Assert.True(activations.GetValueOrDefault(Cluster.SiloPort(4)) > 0, "the 4th silo hosts no grains");
    }

    [Fact]
    public async Task Database_outage_fails_writes_retryably_and_the_cluster_recovers_by_itself()
    {
        await fixture.RestoreBaselineAsync();
        var traffic = NewTraffic("database");
        // Beside the single events, batches for two users each: all-or-nothing across the outage.
        var batches = new BatchTraffic(Cluster.Http, Cluster.Api!.BaseAddress, Enumerable.Range(0, 20).Select(i => $"database-batch-user-{i:D2}").ToArray(), fixture.Items);
        using var keyed = NewKeyedRetryTraffic("database");
        var run = Task.WhenAll(traffic.RunAsync(TimeSpan.FromSeconds(40), Workers), batches.RunAsync(TimeSpan.FromSeconds(40), 2),
            keyed.RunAsync(TimeSpan.FromSeconds(40), 2, TimeSpan.FromSeconds(60)));
        await Task.Delay(TimeSpan.FromSeconds(5));
        var faultAt = traffic.Now;
        await Cluster.Postgres.StopAsync(immediate: true);
        var outageStarted = DateTime.UtcNow;
        // A grain first called now cannot read its state; its failed activation is answered to its callers for a few
        // seconds outside any grain call filter, and must still be a retryable 503 (an item no one has asked for).
        using (var fresh = await Cluster.Http.GetAsync(new Uri(Cluster.Api!.BaseAddress, $"/items/asked-first-in-the-outage-{Guid.NewGuid():N}")))
        {
            var body = await fresh.Content.ReadAsStringAsync();
            Assert.True(fresh.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && fresh.Headers.RetryAfter is not null,
                $"an item grain activated during the outage answered {(int)fresh.StatusCode}: {body}");
        }
        var restOfOutage = TimeSpan.FromSeconds(10) - (DateTime.UtcNow - outageStarted);
        if (restOfOutage > TimeSpan.Zero) await Task.Delay(restOfOutage);
        await Cluster.Postgres.StartAgainAsync();
        var restoredAt = traffic.Now;
        await run;

        var report = await Publish("PostgreSQL down for 10 s", traffic, faultAt);
        AssertNothingLost(report);
        // A refused event must not turn up later. A write whose connection broke mid-statement may have been committed
        // just before; its answer says so ("may have been written"), and it is neither acknowledged nor refused.
        Assert.Equal(0, report.RefusedButWritten);
        var batchAudit = await batches.AuditAsync(TimeSpan.FromSeconds(30));
        PublishLine("PostgreSQL down for 10 s", batchAudit);
        Assert.True(batchAudit.Retryable > 0, $"no batch was refused while the database was down: {batchAudit}");
        Assert.Equal(0, batchAudit.Failed);
        Assert.Equal(0, batchAudit.EventsMissing);
        Assert.Equal(0, batchAudit.EventsDuplicated);
        Assert.Equal(0, batchAudit.RefusedButWritten);
        Assert.True(traffic.Records.Any(r => r.IsWrite && r.Outcome != Outcome.Acknowledged && r.Start > faultAt && r.End < restoredAt),
            "no write failed while the database was down: writes were acknowledged without being stored");
        Assert.True((await AssertKeyedRequestsStoredOnceAsync("PostgreSQL down for 10 s", keyed)).Resent > 0, "no keyed request needed a resend during the outage");
        AssertServingAtTheEnd(traffic, TimeSpan.FromSeconds(5));
        await Cluster.WaitForActiveSilosAsync(ClusterFixture.BaselineSilos, TimeSpan.FromSeconds(30));
        AssertFailuresWereRetryable(report);
    }

    [Fact]
    public async Task Graceful_silo_stop_under_load_fails_no_request()
    {
        await fixture.RestoreBaselineAsync();
        var traffic = NewTraffic("drain");
        var run = traffic.RunAsync(TimeSpan.FromSeconds(25), Workers);
        await Task.Delay(TimeSpan.FromSeconds(5));
        var faultAt = traffic.Now;
        await Cluster.Silos[3].StopAsync(TimeSpan.FromSeconds(60));
        await run;

        var report = await Publish("SIGTERM one of three silos", traffic, faultAt);
        AssertNothingLost(report);
        Assert.Equal(0, report.Failed);
        Assert.Equal(0, report.Retryable);
        Assert.Equal(0, report.MaybeWritten);
        await Cluster.WaitForActiveSilosAsync([1, 2], TimeSpan.FromSeconds(10));
    }

    private Traffic NewTraffic(string prefix, int users = 60) =>
        new(Cluster.Http, Cluster.Api!.BaseAddress, Enumerable.Range(0, users).Select(i => $"{prefix}-user-{i:D3}").ToArray(), fixture.Items);

    private async Task<ScenarioReport> Publish(string scenario, Traffic traffic, TimeSpan? faultAt)
    {
        var audit = await traffic.AuditAsync();
        var report = ScenarioReport.From(scenario, traffic.Records, audit, faultAt);
        report.Publish(output);
        return report;
    }

    private static void AssertNothingLost(ScenarioReport report)
    {
        Assert.True(report.WritesAcknowledged > 0, "no write was acknowledged at all");
        Assert.Equal(0, report.Lost);
        Assert.Equal(0, report.Duplicated);
        Assert.Equal(0, report.OutOfOrder);
    }

    private KeyedRetryTraffic NewKeyedRetryTraffic(string scenario)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        return new(Cluster.Api!.BaseAddress, Enumerable.Range(0, 10).Select(i => $"{scenario}-keyed-{run}-user-{i:D2}").ToArray(), fixture.Items, $"{scenario}-{run}");
    }

    /// <summary>Writes an audit to the test output and appends it to artifacts/test-results/fault-scenarios.txt, beside the scenario reports.</summary>
    private void PublishLine(string scenario, object audit)
    {
        output.WriteLine(audit.ToString());
        File.AppendAllText(Path.Combine(RepositoryPaths.Root, "artifacts", "test-results", "fault-scenarios.txt"), $"{DateTimeOffset.UtcNow:O} {scenario}: {audit}\n");
    }

    /// <summary>Every event of the keyed requests is in its user's history once: resends under the same key wrote nothing twice.</summary>
    private async Task<KeyedRetryAudit> AssertKeyedRequestsStoredOnceAsync(string scenario, KeyedRetryTraffic keyed)
    {
        var audit = await keyed.AuditAsync(Cluster.Http, TimeSpan.FromSeconds(30));
        PublishLine(scenario, audit);
        Assert.True(audit.Events > 0, $"no keyed request was acknowledged: {audit}");
        Assert.Equal(0, audit.NeverAcknowledged);
        Assert.Equal(0, audit.Missing);
        Assert.Equal(0, audit.Extra);
        return audit;
    }

    private void AssertFailuresWereRetryable(ScenarioReport report) =>
        Assert.True(report.Failed == 0, $"{report.Failed} requests failed without 503 + Retry-After: {string.Join(" | ", report.FailureSamples)}; " +
            $"the front end logged: {string.Join(" | ", Cluster.Api!.LinesAfter("failed with an unexpected error"))}");

    private static void AssertServingAtTheEnd(Traffic traffic, TimeSpan window)
    {
        var end = traffic.Records.Max(r => r.End);
        var last = traffic.Records.Where(r => r.Start > end - window).ToList();
        Assert.NotEmpty(last);
        Assert.All(last, r => Assert.Equal(Outcome.Acknowledged, r.Outcome));
    }

    /// <summary>Grain activations per silo (by silo port), asked of the cluster through an Orleans client.</summary>
    private async Task<Dictionary<int, int>> ActivationsPerSiloAsync()
    {
        using var host = Host.CreateDefaultBuilder()
            .ConfigureLogging(logging => logging.ClearProviders())
            .UseOrleansClient(client => client
                .Configure<ClusterOptions>(o => { o.ClusterId = LocalCluster.ClusterId; o.ServiceId = "recommender"; })
                .UseAdoNetClustering(o => { o.Invariant = "Npgsql"; o.ConnectionString = Cluster.TestConnectionString; }))
            .Build();
        await host.StartAsync();
        try
        {
            var management = host.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
            var statistics = await management.GetSimpleGrainStatistics();
            return statistics.Where(s => s.GrainType.Contains("UserGrain", StringComparison.Ordinal))
                .GroupBy(s => s.SiloAddress.Endpoint.Port)
                .ToDictionary(g => g.Key, g => g.Sum(s => s.ActivationCount));
        }
        finally
        {
            await host.StopAsync();
        }
    }
}

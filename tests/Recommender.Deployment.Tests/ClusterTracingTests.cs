using System.Net;
using System.Net.Http.Json;

namespace Recommender.Deployment.Tests;

/// <summary>
/// Telemetry across the processes of the multi-process cluster: a request its caller samples is one trace from the
/// front end's HTTP server through the grain calls on the silos down to the PostgreSQL commands, and every process
/// exports its logs and metrics (the silos over OTLP/gRPC, the front end over OTLP/HTTP).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterTracingTests(ClusterFixture fixture)
{
    private LocalCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task A_sampled_request_is_one_trace_from_the_front_end_through_the_silos_to_the_database()
    {
        await fixture.RestoreBaselineAsync();
        var api = Cluster.Api!.BaseAddress;
        var run = Guid.NewGuid().ToString("N")[..8];
        string[] users = [$"trace-{run}-a", $"trace-{run}-b"];
        // Two users in one batch: it is stored in the event journal, which then hands each user's events to the user's grain.
        var events = new[] { "1", "260", "1196" }.SelectMany((item, i) => users
            .Select(user => new { userId = user, itemId = item, type = "view", timestamp = DateTimeOffset.UtcNow.AddMinutes(i - 10) })).ToArray();
        var caller = CallerTrace.New();
        using (var response = await Cluster.Http.SendAsync(caller.Request(HttpMethod.Post, new Uri(api, "/events"), JsonContent.Create(events))))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var spans = await Cluster.Collector.WaitForTraceAsync(caller, spans => users.All(user =>
            spans.Any(s => s.Scope == "Microsoft.Orleans.Storage" && s.Attributes.GetValueOrDefault("orleans.grain.id") == "user/" + user
                && spans.Any(command => command.Scope == "Npgsql" && command.ParentSpanId == s.SpanId))), TimeSpan.FromSeconds(30));
        var server = Assert.Single(spans, s => s.ParentSpanId == caller.SpanId);
        Assert.Equal(("recommender-api", ReceivedSpan.Server, "POST /events"), (server.Service, server.Kind, server.Name));
        var journal = Assert.Single(spans, s => s.Name == "IEventJournalGrain/Ingest" && s.Kind == ReceivedSpan.Server);
        Assert.Equal("recommender-silo", journal.Service);
        Assert.Contains(spans, s => s.Service == "recommender-api" && s.SpanId == journal.ParentSpanId);
        // The journal's write and the users' state writes reach PostgreSQL under the request's trace.
        Assert.Contains(spans, s => s.Scope == "Npgsql" && s.Attributes.GetValueOrDefault("db.query.text", "").Contains("RecommenderGrainRows", StringComparison.Ordinal));
        Assert.All(spans.Where(s => s.Scope == "Npgsql"), s => Assert.Equal("recommender-silo", s.Service));
        Assert.Equal(2, spans.Count(s => s.Name == "IUserGrain/Ingest" && s.Kind == ReceivedSpan.Server));
        // Each silo files its spans under the instance id its OTEL_RESOURCE_ATTRIBUTES gives, not a generated one.
        Assert.All(spans.Where(s => s.Service == "recommender-silo"), s => Assert.Matches("^silo[123]$", s.Instance));

        // Recommendations: the user's grain, the encoder in the inference pool, and the top-k query over every item shard.
        caller = CallerTrace.New();
        using (var response = await Cluster.Http.SendAsync(caller.Request(HttpMethod.Get, new Uri(api, $"/users/{users[0]}/recommendations?k=5"))))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("\"source\":\"model\"", await response.Content.ReadAsStringAsync());
        }
        const int shards = 4; // Recommender__Shards of the cluster
        spans = await Cluster.Collector.WaitForTraceAsync(caller,
            spans => spans.Any(s => s.Name == "IInferenceGrain/Encode" && s.Kind == ReceivedSpan.Server)
                && spans.Count(s => s.Name == "IItemShardGrain/TopK" && s.Kind == ReceivedSpan.Server) == shards, TimeSpan.FromSeconds(30));
        Assert.Equal("GET /users/{id}/recommendations", Assert.Single(spans, s => s.ParentSpanId == caller.SpanId).Name);
        Assert.Equal(shards, spans.Where(s => s.Name == "IItemShardGrain/TopK" && s.Kind == ReceivedSpan.Server)
            .Select(s => s.Attributes["orleans.rpc.target_id"]).Distinct().Count());

        await Cluster.Collector.WaitUntilAsync(c => c.Metrics.Any(m => m.Service == "recommender-silo" && m.Name == "recommender.inference.encode.duration")
            && c.Metrics.Any(m => m.Service == "recommender-api" && m.Name == "http.server.request.duration")
            && c.Logs.Any(l => l.Service == "recommender-silo") && c.Logs.Any(l => l.Service == "recommender-api"),
            TimeSpan.FromSeconds(30), "the encoder's metric from a silo, the HTTP server's from the front end, and logs from both");
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;

namespace Recommender.Deployment.Tests;

/// <summary>
/// OTLP export of a single node (its silo and front end in one process) to a collector on loopback, and the settings
/// that stop a node at start-up instead of leaving it without the export it was given.
/// </summary>
public sealed class TelemetryTests
{
    [Theory]
    [InlineData("http/protobuf")]
    [InlineData("grpc")]
    public async Task A_single_node_exports_the_trace_of_a_request_it_was_asked_to_sample_its_logs_and_its_metrics(string protocol)
    {
        await using var collector = await OtlpCollector.StartAsync();
        var root = NewDirectory();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            await using var node = NodeProcess.StartSingleNode("traced", Path.Combine(root, "data"), root, new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = (protocol == "grpc" ? collector.GrpcEndpoint : collector.HttpEndpoint).ToString(),
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = protocol,
                ["OTEL_TRACES_SAMPLER"] = "parentbased_always_off",
                // Blank counts as unset (docker compose passes "${VARIABLE:-}" on as an empty value): metrics are sent.
                ["OTEL_METRICS_EXPORTER"] = "",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
            });
            await node.WaitReadyAsync(http, TimeSpan.FromSeconds(90), probe: "/health/live");
            (await http.PostAsJsonAsync(new Uri(node.BaseAddress, "/items"), new[] { new { id = "a", title = "A" }, new { id = "b", title = "B" } }))
                .EnsureSuccessStatusCode();

            // Not sampled: no traceparent, so the parent-based sampler leaves the request out.
            (await http.PostAsJsonAsync(new Uri(node.BaseAddress, "/events"), new { userId = "untraced", itemId = "a", type = "view" })).EnsureSuccessStatusCode();

            var caller = CallerTrace.New();
            using (var response = await http.SendAsync(caller.Request(HttpMethod.Post, new Uri(node.BaseAddress, "/events"),
                JsonContent.Create(new[] { new { userId = "traced", itemId = "a", type = "view" }, new { userId = "traced", itemId = "b", type = "view" } }))))
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);

            var spans = await collector.WaitForTraceAsync(caller,
                spans => spans.Any(s => s.Scope == "Microsoft.Orleans.Storage" && s.Attributes.GetValueOrDefault("orleans.grain.id") == "user/traced"),
                TimeSpan.FromSeconds(30));
            var server = Assert.Single(spans, s => s.ParentSpanId == caller.SpanId);
            Assert.Equal(("recommender-api", ReceivedSpan.Server, "POST /events"), (server.Service, server.Kind, server.Name));
            // The grain call from the front end and its execution, in one process.
            Assert.Contains(spans, s => s.Name == "IUserGrain/Ingest" && s.Kind == ReceivedSpan.Client);
            Assert.Contains(spans, s => s.Name == "IUserGrain/Ingest" && s.Kind == ReceivedSpan.Server);
            Assert.DoesNotContain(collector.Spans, s => s.Scope.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) && s.TraceId != caller.TraceId);

            await collector.WaitUntilAsync(c => c.Logs.Any(l => l.Service == "recommender-api" && l.Body.Contains("Application started", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(30), "the node's start-up logs");
            await collector.WaitUntilAsync(c => c.Metrics.Any(m => m.Service == "recommender-api" && m.Name == "http.server.request.duration")
                && c.Metrics.Any(m => m.Service == "recommender-api" && m.Name.StartsWith("recommender.", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(30), "the HTTP server's and the recommender's metrics");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("TRACES")]
    [InlineData("METRICS")]
    [InlineData("LOGS")]
    public async Task A_signal_whose_exporter_is_none_is_left_out_and_the_others_are_sent(string signal)
    {
        await using var collector = await OtlpCollector.StartAsync();
        var root = NewDirectory();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            await using var node = NodeProcess.StartSingleNode("without-" + signal.ToLowerInvariant(), Path.Combine(root, "data"), root, new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.GrpcEndpoint.ToString(),
                [$"OTEL_{signal}_EXPORTER"] = "none",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
            });
            await node.WaitReadyAsync(http, TimeSpan.FromSeconds(90), probe: "/health/live");
            (await http.PostAsJsonAsync(new Uri(node.BaseAddress, "/items"), new[] { new { id = "a", title = "A" } })).EnsureSuccessStatusCode();
            var caller = CallerTrace.New();
            using (var response = await http.SendAsync(caller.Request(HttpMethod.Post, new Uri(node.BaseAddress, "/events"),
                JsonContent.Create(new { userId = "u", itemId = "a", type = "view" }))))
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);

            bool Traced(OtlpCollector c) => c.Spans.Any(s => s.TraceId == caller.TraceId && s.Kind == ReceivedSpan.Server);
            bool Measured(OtlpCollector c) => c.Metrics.Any(m => m.Service == "recommender-api" && m.Name == "http.server.request.duration");
            bool Logged(OtlpCollector c) => c.Logs.Any(l => l.Service == "recommender-api");
            await collector.WaitUntilAsync(c => (signal == "TRACES" || Traced(c)) && (signal == "METRICS" || Measured(c)) && (signal == "LOGS" || Logged(c)),
                TimeSpan.FromSeconds(30), "the signals left in");
            // Longer than every schedule above: what was to be sent of the request has been.
            await Task.Delay(TimeSpan.FromSeconds(2));
            switch (signal)
            {
                case "TRACES": Assert.Empty(collector.Spans); break;
                case "METRICS": Assert.Empty(collector.Metrics); break;
                case "LOGS": Assert.Empty(collector.Logs); break;
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_collector_that_cannot_be_reached_costs_the_node_neither_its_requests_nor_its_shutdown()
    {
        var root = NewDirectory();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            // A port nothing listens on: every export is refused.
            await using var node = NodeProcess.StartSingleNode("unreachable", Path.Combine(root, "data"), root, new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{FreePorts.Next()}",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
            });
            await node.WaitReadyAsync(http, TimeSpan.FromSeconds(90), probe: "/health/live");
            (await http.PostAsJsonAsync(new Uri(node.BaseAddress, "/items"), new[] { new { id = "a", title = "A" } })).EnsureSuccessStatusCode();
            for (var i = 0; i < 20; i++)
            {
                using var response = await http.SendAsync(CallerTrace.New().Request(HttpMethod.Post, new Uri(node.BaseAddress, "/events"),
                    JsonContent.Create(new { userId = $"u{i}", itemId = "a", type = "view" })));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            var history = await http.GetFromJsonAsync<HistoryView>(new Uri(node.BaseAddress, "/users/u19/history"));
            Assert.Equal("a", Assert.Single(history!.Events).ItemId);

            await node.StopAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, await node.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317", "OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL such as http://collector:4317, not 'collector:4317'.")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "http", "OTEL_EXPORTER_OTLP_PROTOCOL must be grpc or http/protobuf, not 'http'.")]
    [InlineData("OTEL_TRACES_SAMPLER", "ratio", "OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio, not 'ratio'.")]
    [InlineData("OTEL_TRACES_EXPORTER", "jaeger", "OTEL_TRACES_EXPORTER must be otlp or none, not 'jaeger'.")]
    [InlineData("OTEL_METRICS_EXPORTER", "prometheus", "OTEL_METRICS_EXPORTER must be otlp or none, not 'prometheus'.")]
    [InlineData("OTEL_TRACES_SAMPLER_ARG", "10%", "OTEL_TRACES_SAMPLER_ARG must be a sampling ratio from 0 to 1 for OTEL_TRACES_SAMPLER=parentbased_traceidratio, not '10%'.")]
    public async Task A_telemetry_setting_the_exporter_would_ignore_stops_the_node_naming_it(string key, string value, string message)
    {
        var root = NewDirectory();
        try
        {
            var telemetry = new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4317",
                ["OTEL_TRACES_SAMPLER"] = "parentbased_traceidratio",
                [key] = value,
            };
            await using var node = NodeProcess.StartSingleNode("misconfigured", Path.Combine(root, "data"), root, telemetry);
            Assert.Equal(2, await node.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            var log = File.ReadAllText(node.LogPath);
            Assert.Contains($"Configuration error: {message}", log);
            Assert.DoesNotContain("Unhandled exception", log);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private sealed record HistoryView(IReadOnlyList<HistoryEvent> Events);

    private sealed record HistoryEvent(string ItemId);

    private static string NewDirectory()
    {
        var root = Path.Combine(Path.GetTempPath(), "recommender-telemetry-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        return root;
    }
}

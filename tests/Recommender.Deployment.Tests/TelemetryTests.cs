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
    public async Task A_collector_that_cannot_be_reached_costs_the_node_neither_its_requests_nor_its_shutdown_and_is_logged_once_an_interval()
    {
        var root = NewDirectory();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            // A port nothing listens on: every export is refused.
            var endpoint = $"http://127.0.0.1:{FreePorts.Next()}";
            await using var node = NodeProcess.StartSingleNode("unreachable", Path.Combine(root, "data"), root, new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint,
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
                ["Recommender__TelemetryFailureLogInterval"] = "00:00:03",
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

            // Metrics are sent every half second: the first failure is logged, the next ones within 3 s only counted,
            // then logged with their number.
            var metricsUrl = $"{endpoint}/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
            var lines = await node.WaitForLogAsync(log => ExportFailures(log, metricsUrl).Count(line => line.Contains(" more like it since ", StringComparison.Ordinal)) >= 1);
            var failures = ExportFailures(lines, metricsUrl);
            Assert.StartsWith($"OpenTelemetry (OpenTelemetry-Exporter-OpenTelemetryProtocol, TransientHttpError): Transient HTTP error occurred when communicating with {metricsUrl}.", failures[0]);
            Assert.Contains("Connection refused", failures[0]);
            Assert.DoesNotContain(" more like it", failures[0]);
            Assert.Matches(@" \((\d+) more like it since ", failures[1]);
            // The message's first line only: no stack trace follows it.
            Assert.DoesNotContain(lines, line => line.TrimStart().StartsWith("at OpenTelemetry.", StringComparison.Ordinal));
            Assert.Contains(lines, line => line.Contains($"communicating with {endpoint}/opentelemetry.proto.collector.trace.v1.TraceService/Export", StringComparison.Ordinal));

            await node.StopAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, await node.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("http/protobuf", "401")]
    [InlineData("grpc", "Unauthenticated")]
    public async Task A_collector_that_refuses_the_exports_is_named_in_the_log_and_one_that_takes_them_is_not(string protocol, string refusal)
    {
        await using var collector = await OtlpCollector.StartAsync(requiredHeader: ("x-api-key", "secret"));
        var endpoint = (protocol == "grpc" ? collector.GrpcEndpoint : collector.HttpEndpoint).ToString().TrimEnd('/');
        var root = NewDirectory();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            var settings = new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = protocol,
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            };
            await using (var refused = NodeProcess.StartSingleNode("refused", Path.Combine(root, "refused"), root, settings))
            {
                await refused.WaitReadyAsync(http, TimeSpan.FromSeconds(90), probe: "/health/live");
                var lines = await refused.WaitForLogAsync(log => log.Any(line => line.Contains("OpenTelemetry (OpenTelemetry-Exporter-OpenTelemetryProtocol", StringComparison.Ordinal)));
                // One line per signal refused so far (metrics, the start-up logs), each naming where and why.
                Assert.All(lines.Where(line => line.Contains("OpenTelemetry (", StringComparison.Ordinal)), failure =>
                {
                    Assert.Contains(endpoint, failure);
                    Assert.Contains(refusal, failure);
                });
                Assert.Empty(collector.Metrics);
            }

            // The same node with the collector's key: its exports are taken and nothing is logged about them.
            settings["OTEL_EXPORTER_OTLP_HEADERS"] = "x-api-key=secret";
            await using var accepted = NodeProcess.StartSingleNode("accepted", Path.Combine(root, "accepted"), root, settings);
            await accepted.WaitReadyAsync(http, TimeSpan.FromSeconds(90), probe: "/health/live");
            await collector.WaitUntilAsync(c => c.Metrics.Count(m => m.Name == "http.server.request.duration") >= 3, TimeSpan.FromSeconds(30), "three exports of the node's metrics");
            Assert.DoesNotContain(File.ReadAllLines(accepted.LogPath), line => line.Contains("OpenTelemetry (", StringComparison.Ordinal));
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
    [InlineData("Recommender__TelemetryFailureLogInterval", "0", "Recommender:TelemetryFailureLogInterval must be a time span above zero and at most 1.00:00:00 (such as 00:01:00), not '0'.")]
    [InlineData("OTEL_TRACES_SAMPLER_ARG", "10%", "OTEL_TRACES_SAMPLER_ARG must be a sampling ratio from 0 to 1 for OTEL_TRACES_SAMPLER=parentbased_traceidratio, not '10%'.")]
    // The exporter threw on these once the node had started (an unhandled exception); the secret is not repeated.
    [InlineData("OTEL_EXPORTER_OTLP_HEADERS", "secret-key", "OTEL_EXPORTER_OTLP_HEADERS must be name=value pairs separated by commas (such as x-api-key=SECRET): pair 1 of 1 has no '='.")]
    [InlineData("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=secret,", "OTEL_EXPORTER_OTLP_HEADERS must be name=value pairs separated by commas (such as x-api-key=SECRET): pair 2 of 2 has no '='.")]
    [InlineData("OTEL_EXPORTER_OTLP_HEADERS", "api key=secret", "OTEL_EXPORTER_OTLP_HEADERS must be name=value pairs separated by commas (such as x-api-key=SECRET): pair 1 of 1 has a name a header cannot have.")]
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

    /// <summary>The node's log lines reporting failed exports to <paramref name="url"/>, in order.</summary>
    private static List<string> ExportFailures(IEnumerable<string> log, string url) =>
        log.Where(line => line.Contains("TransientHttpError", StringComparison.Ordinal) && line.Contains(url + ".", StringComparison.Ordinal))
            .Select(line => line.Trim()).ToList();

    private sealed record HistoryView(IReadOnlyList<HistoryEvent> Events);

    private sealed record HistoryEvent(string ItemId);

    private static string NewDirectory()
    {
        var root = Path.Combine(Path.GetTempPath(), "recommender-telemetry-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        return root;
    }
}

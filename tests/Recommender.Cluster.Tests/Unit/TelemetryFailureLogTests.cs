using System.Diagnostics.Tracing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Recommender.Hosting;

namespace Recommender.Cluster.Tests.Unit;

public sealed class TelemetryFailureLogTests
{
    private const string Exporter = "OpenTelemetry-Exporter-OpenTelemetryProtocol";
    private const string Metrics = "http://collector:4317/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    private const string Traces = "http://collector:4317/opentelemetry.proto.collector.trace.v1.TraceService/Export";

    private readonly FakeLogger<TelemetryFailureLog> logger = new();
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void A_repeated_report_is_counted_until_the_interval_has_passed_and_then_logged_with_its_count()
    {
        using var log = new TelemetryFailureLog(logger, time, TimeSpan.FromMinutes(1));
        log.Report(Exporter, 2, "TransientHttpError", Metrics, EventLevel.Warning, "refused 1");
        for (var i = 0; i < 5; i++)
        {
            time.Advance(TimeSpan.FromSeconds(10));
            log.Report(Exporter, 2, "TransientHttpError", Metrics, EventLevel.Warning, "refused");
        }
        Assert.Equal(1, logger.Collector.Count);

        time.Advance(TimeSpan.FromSeconds(10)); // a minute after the first line
        log.Report(Exporter, 2, "TransientHttpError", Metrics, EventLevel.Warning, "refused 7");

        var lines = logger.Collector.GetSnapshot();
        Assert.Equal(["OpenTelemetry (OpenTelemetry-Exporter-OpenTelemetryProtocol, TransientHttpError): refused 1",
            "OpenTelemetry (OpenTelemetry-Exporter-OpenTelemetryProtocol, TransientHttpError): refused 7 (5 more like it since 2026-12-05T12:00:00.0000000+00:00)"],
            lines.Select(line => line.Message));
        Assert.All(lines, line => Assert.Equal(LogLevel.Warning, line.Level));

        // The count starts again from the line just logged.
        time.Advance(TimeSpan.FromMinutes(2));
        log.Report(Exporter, 2, "TransientHttpError", Metrics, EventLevel.Error, "refused 8");
        Assert.Equal("OpenTelemetry (OpenTelemetry-Exporter-OpenTelemetryProtocol, TransientHttpError): refused 8", logger.LatestRecord.Message);
    }

    [Fact]
    public async Task Repeats_still_counted_when_the_failures_stop_are_logged_an_interval_after_the_last_line()
    {
        using var log = new TelemetryFailureLog(logger, time, TimeSpan.FromMinutes(1));
        await log.StartAsync(CancellationToken.None);
        log.Report(Exporter, 2, "TransientHttpError", Metrics, EventLevel.Warning, "refused 1");
        time.Advance(TimeSpan.FromSeconds(10));
        log.Report(Exporter, 2, "TransientHttpError", Metrics, EventLevel.Warning, "refused 2");
        time.Advance(TimeSpan.FromSeconds(10));
        log.Report(Exporter, 2, "TransientHttpError", Metrics, EventLevel.Warning, "refused 3");
        Assert.Equal(1, logger.Collector.Count);

        // The collector is back: no report comes, and the count is logged when the interval is up, quoting the last.
        time.Advance(TimeSpan.FromSeconds(40));
        Assert.Equal("OpenTelemetry (OpenTelemetry-Exporter-OpenTelemetryProtocol, TransientHttpError): refused 3 (2 more like it since 2026-12-05T12:00:00.0000000+00:00)",
            logger.LatestRecord.Message);
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(2, logger.Collector.Count);
    }

    [Fact]
    public void Each_event_and_subject_is_its_own_kind()
    {
        using var log = new TelemetryFailureLog(logger, time, TimeSpan.FromMinutes(1));
        log.Report(Exporter, 2, "TransientHttpError", Metrics, EventLevel.Warning, "metrics refused");
        log.Report(Exporter, 2, "TransientHttpError", Traces, EventLevel.Warning, "traces refused");
        log.Report(Exporter, 4, "ExportMethodException", Metrics, EventLevel.Error, "failed");
        log.Report("OpenTelemetry-Sdk", 2, "TransientHttpError", Metrics, EventLevel.Warning, "another source");
        log.Report(Exporter, 2, "TransientHttpError", Traces, EventLevel.Warning, "traces refused again");

        Assert.Equal(["metrics refused", "traces refused", "failed", "another source"],
            logger.Collector.GetSnapshot().Select(line => line.Message[(line.Message.IndexOf("): ", StringComparison.Ordinal) + 3)..]));
    }

    [Fact]
    public void Informational_reports_and_the_notice_of_instruments_left_out_are_not_logged()
    {
        using var log = new TelemetryFailureLog(logger, time, TimeSpan.FromMinutes(1));
        log.Report("OpenTelemetry-Sdk", 1, "MeterProviderSdkEvent", null, EventLevel.Informational, "built");
        log.Report("OpenTelemetry-Sdk", 33, "MetricInstrumentIgnored", "http.client.request.duration", EventLevel.Warning,
            "Measurements from Instrument 'http.client.request.duration', Meter 'System.Net.Http' will be ignored.");
        Assert.Equal(0, logger.Collector.Count);
    }

    [Fact]
    public void An_interval_that_is_not_positive_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TelemetryFailureLog(logger, time, TimeSpan.Zero));
    }
}

using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Recommender.Grains.Inference;

namespace Recommender.Hosting;

/// <summary>
/// The OpenTelemetry signals of every process. Metrics always: Prometheus text at /metrics (its HTTP server, the .NET
/// runtime, Orleans, and the serving instruments of the grains it hosts; silos export them too, since the inference
/// pool and the event journal run there). With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, also OTLP export of metrics,
/// logs and traces: a request's trace follows it from the HTTP server through the grain calls (across processes in a
/// cluster) to the database commands, under the standard OTEL_* settings (protocol, headers, sampler, resource).
/// </summary>
public static class NodeTelemetry
{
    public const string EndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ProtocolKey = "OTEL_EXPORTER_OTLP_PROTOCOL";
    public const string HeadersKey = "OTEL_EXPORTER_OTLP_HEADERS";
    public const string SamplerKey = "OTEL_TRACES_SAMPLER";
    public const string SamplerArgumentKey = "OTEL_TRACES_SAMPLER_ARG";
    public const string TracesExporterKey = "OTEL_TRACES_EXPORTER";
    public const string MetricsExporterKey = "OTEL_METRICS_EXPORTER";
    public const string LogsExporterKey = "OTEL_LOGS_EXPORTER";

    /// <summary>Grain calls made by this application's code, and grain state reads and writes.</summary>
    private static readonly string[] OrleansSources = ["Microsoft.Orleans.Application", "Microsoft.Orleans.Storage"];

    private static readonly string[] Samplers =
        ["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"];

    /// <summary>Whether this process exports over OTLP.</summary>
    public static bool ExportsOtlp(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration[EndpointKey]);

    /// <summary>
    /// Whether it traces: it exports, and <c>OTEL_TRACES_EXPORTER</c> is not <c>none</c>. Grain calls then carry the
    /// trace context.
    /// </summary>
    public static bool Traces(IConfiguration configuration) => Exports(configuration, TracesExporterKey);

    // Each signal sent costs CPU on every request (deploy/bench/telemetry-overhead.sh), so each can be left out:
    // OTEL_{TRACES,METRICS,LOGS}_EXPORTER=none.
    private static bool Exports(IConfiguration configuration, string exporterKey) =>
        ExportsOtlp(configuration) && !string.Equals(configuration[exporterKey]?.Trim(), "none", StringComparison.Ordinal);

    /// <summary>
    /// Metrics (with <paramref name="meters"/> added) and, when configured, the OTLP export, under the resource
    /// <paramref name="serviceName"/> ("service_name" on target_info) unless OTEL_SERVICE_NAME names another.
    /// </summary>
    public static IHostApplicationBuilder AddNodeTelemetry(this IHostApplicationBuilder builder, string serviceName, params string[] meters)
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, read again after the default name, take precedence over it.
            .ConfigureResource(resource => resource
                .AddService(serviceName, serviceVersion: typeof(NodeTelemetry).Assembly.GetName().Version?.ToString())
                .AddEnvironmentVariableDetector())
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter([ServingMetrics.MeterName, "Microsoft.Orleans", .. meters])
                .AddPrometheusExporter());
        var failureLogInterval = FailureLogInterval(builder.Configuration);
        builder.Services.AddHostedService(services =>
            new TelemetryFailureLog(services.GetRequiredService<ILogger<TelemetryFailureLog>>(), TimeProvider.System, failureLogInterval));
        if (!ExportsOtlp(builder.Configuration)) return builder;

        Validate(builder.Configuration);
        // The exporters read the endpoint, protocol, headers and schedules from the OTEL_* keys themselves.
        if (Traces(builder.Configuration))
            telemetry.WithTracing(tracing => tracing
                // Probes and scrapers poll every few seconds; their spans would bury the requests.
                .AddAspNetCoreInstrumentation(http => http.Filter = context => !IsProbe(context.Request.Path))
                .AddSource(OrleansSources)
                .AddSource("Npgsql")
                .AddOtlpExporter());
        if (Exports(builder.Configuration, MetricsExporterKey))
            telemetry.WithMetrics(metrics => metrics.AddOtlpExporter());
        if (Exports(builder.Configuration, LogsExporterKey))
            telemetry.WithLogging(logging => logging.AddOtlpExporter());
        return builder;
    }

    /// <summary>The Prometheus text endpoint, /metrics.</summary>
    public static IEndpointConventionBuilder MapNodeMetrics(this IEndpointRouteBuilder endpoints) => endpoints.MapPrometheusScrapingEndpoint();

    /// <summary>Grain calls carry the caller's trace context when this process traces.</summary>
    public static ISiloBuilder AddTracePropagation(this ISiloBuilder silo, IConfiguration configuration) =>
        Traces(configuration) ? silo.AddActivityPropagation() : silo;

    /// <inheritdoc cref="AddTracePropagation(ISiloBuilder, IConfiguration)"/>
    public static IClientBuilder AddTracePropagation(this IClientBuilder client, IConfiguration configuration) =>
        Traces(configuration) ? client.AddActivityPropagation() : client;

    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase);

    // The OpenTelemetry SDK ignores a setting it cannot read (a node would run without the export or the sampling it
    // was given): such a value stops the node at start-up instead, naming the key.
    private static void Validate(IConfiguration configuration)
    {
        // A blank value counts as unset, as in the SDK (docker compose passes "${VARIABLE:-}" on that way).
        string? Value(string key) => string.IsNullOrWhiteSpace(configuration[key]) ? null : configuration[key]!.Trim();
        var endpoint = Value(EndpointKey)!;
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
            throw Invalid(EndpointKey, $"{EndpointKey} must be an http(s) URL such as http://collector:4317, not '{endpoint}'.");
        if (Value(ProtocolKey) is { } protocol && protocol is not ("grpc" or "http/protobuf"))
            throw Invalid(ProtocolKey, $"{ProtocolKey} must be grpc or http/protobuf, not '{protocol}'.");
        if (Value(HeadersKey) is { } headers && HeadersProblem(headers) is { } problem)
            throw Invalid(HeadersKey, $"{HeadersKey} must be name=value pairs separated by commas (such as x-api-key=SECRET): {problem}.");
        foreach (var key in new[] { TracesExporterKey, MetricsExporterKey, LogsExporterKey })
            if (Value(key) is { } exporter && exporter is not ("otlp" or "none"))
                throw Invalid(key, $"{key} must be otlp or none, not '{exporter}'.");
        var sampler = Value(SamplerKey);
        if (sampler is not null && !Samplers.Contains(sampler))
            throw Invalid(SamplerKey, $"{SamplerKey} must be one of {string.Join(", ", Samplers)}, not '{sampler}'.");
        if (sampler is "traceidratio" or "parentbased_traceidratio" && Value(SamplerArgumentKey) is { } argument
            && (!double.TryParse(argument, NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) || ratio is < 0 or > 1))
            throw Invalid(SamplerArgumentKey, $"{SamplerArgumentKey} must be a sampling ratio from 0 to 1 for {SamplerKey}={sampler}, not '{argument}'.");
    }

    // What the exporter would throw on when it builds its first request (after the node started, ending it). The value
    // holds secrets, so the problem names the pair by its place, not its text.
    private static string? HeadersProblem(string headers)
    {
        var pairs = headers.Split(',');
        for (var i = 0; i < pairs.Length; i++)
        {
            var at = pairs[i].IndexOf('=', StringComparison.Ordinal);
            var name = at < 0 ? "" : pairs[i][..at].Trim();
            var where = $"pair {i + 1} of {pairs.Length}";
            if (at < 0) return $"{where} has no '='";
            if (name.Length == 0) return $"{where} has no name before its '='";
            // An HTTP header name is a token (RFC 9110, section 5.6.2).
            if (!name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
                return $"{where} has a name a header cannot have";
            if (pairs[i][(at + 1)..].Any(char.IsControl)) return $"{where} has a control character in its value";
        }
        return null;
    }

    private static TimeSpan FailureLogInterval(IConfiguration configuration)
    {
        var value = configuration[TelemetryFailureLog.IntervalKey];
        if (string.IsNullOrWhiteSpace(value)) return TelemetryFailureLog.DefaultInterval;
        if (!TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var interval) || interval <= TimeSpan.Zero || interval > TimeSpan.FromDays(1))
            throw Invalid(TelemetryFailureLog.IntervalKey,
                $"{TelemetryFailureLog.IntervalKey} must be a time span above zero and at most 1.00:00:00 (such as 00:01:00), not '{value}'.");
        return interval;
    }

    private static OptionsValidationException Invalid(string key, string message) => new(key, typeof(NodeTelemetry), [message]);
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Recommender.Grains.Inference;

namespace Recommender.Hosting;

/// <summary>
/// The OpenTelemetry metrics every process exports for Prometheus at /metrics: its HTTP server, the .NET runtime,
/// Orleans, and the serving instruments of the grains it hosts. Silos must export them too: in a cluster the inference
/// pool and the event journal run there, not in the front ends.
/// </summary>
public static class NodeMetrics
{
    /// <summary>Metrics under the resource <paramref name="serviceName"/> ("service_name" on target_info), with <paramref name="meters"/> added.</summary>
    public static IHostApplicationBuilder AddNodeMetrics(this IHostApplicationBuilder builder, string serviceName, params string[] meters)
    {
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName, serviceVersion: typeof(NodeMetrics).Assembly.GetName().Version?.ToString()))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter([ServingMetrics.MeterName, "Microsoft.Orleans", .. meters])
                .AddPrometheusExporter());
        return builder;
    }

    /// <summary>The Prometheus text endpoint, /metrics.</summary>
    public static IEndpointConventionBuilder MapNodeMetrics(this IEndpointRouteBuilder endpoints) => endpoints.MapPrometheusScrapingEndpoint();
}

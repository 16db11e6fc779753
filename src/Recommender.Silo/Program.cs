using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Recommender.Hosting;
using Recommender.Silo;

// A headless silo for cluster deployments: the same configuration as the embedded node (see CONFIGURATION.md),
// usually with Recommender:Clustering:Mode = AdoNet and a shared database; front ends join with Recommender:Mode = Cluster.
// Its only HTTP surface is the health endpoints that container orchestrators probe and /metrics for Prometheus (the
// inference pool and the event journal run here, so their instruments are only here).
return await HostRunner.RunAsync(() =>
{
    var builder = HostRunner.CreateBuilder(args);
    builder.AddRecommenderSilo();
    builder.AddNodeTelemetry("recommender-silo");
    builder.Services.AddHealthChecks().AddCheck<SiloActiveHealthCheck>("silo-active", tags: ["ready"]);

    var app = builder.Build();
    app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
    app.MapHealthChecks("/health/ready", new HealthCheckOptions
    {
        Predicate = check => check.Tags.Contains("ready"),
        ResultStatusCodes = { [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable },
    });
    app.MapNodeMetrics();
    return app;
}, hostsSilo: _ => true);

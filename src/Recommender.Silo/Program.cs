using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Recommender.Hosting;
using Recommender.Silo;

// A headless silo for cluster deployments: the same configuration as the embedded node (see CONFIGURATION.md),
// usually with Recommender:Clustering:Mode = AdoNet and a shared database; front ends join with Recommender:Mode = Cluster.
// Its only HTTP surface is the health endpoints that container orchestrators probe.
return await HostRunner.RunAsync(() =>
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddRecommenderSilo();
    builder.Services.AddHealthChecks().AddCheck<SiloActiveHealthCheck>("silo-active", tags: ["ready"]);

    var app = builder.Build();
    app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
    app.MapHealthChecks("/health/ready", new HealthCheckOptions
    {
        Predicate = check => check.Tags.Contains("ready"),
        ResultStatusCodes = { [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable },
    });
    return app;
}, hostsSilo: _ => true);

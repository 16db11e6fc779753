using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Recommender.Abstractions;
using Recommender.Hosting;

namespace Recommender.Api.Health;

/// <summary>Ready when a model is active and the catalogue is loaded (the demo load finished, when it is enabled).</summary>
public sealed class CatalogueReadyCheck(IGrainFactory grains, IOptions<RecommenderOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var snapshot = await grains.GetGrain<ICatalogueGrain>(0).GetSnapshot().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            if (snapshot.Model is null) return HealthCheckResult.Unhealthy("No model is active yet.");
            if (options.Value.SeedDemo && !snapshot.Seeded) return HealthCheckResult.Unhealthy("The demo catalogue is still loading.");
            return HealthCheckResult.Healthy($"Model {snapshot.Model.Version} active over {snapshot.Model.Shards} shards.");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("The cluster did not answer.", e);
        }
    }
}

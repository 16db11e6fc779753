using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;

namespace Recommender.Silo;

/// <summary>
/// Ready while this silo is an active member of the cluster: before it has joined, and once it starts
/// shutting down, it takes no new grains, so a load balancer or orchestrator should not count on it.
/// </summary>
public sealed class SiloActiveHealthCheck(ISiloStatusOracle membership) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentStatus;
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"Silo {membership.SiloAddress} is active.")
            : HealthCheckResult.Unhealthy($"Silo {membership.SiloAddress} is {status}."));
    }
}

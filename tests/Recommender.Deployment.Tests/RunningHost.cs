using Microsoft.Extensions.Hosting;

namespace Recommender.Deployment.Tests;

/// <summary>A started generic host that stops gracefully when disposed.</summary>
public sealed class RunningHost(IHost host) : IAsyncDisposable
{
    public IServiceProvider Services => host.Services;

    public static async Task<RunningHost> StartAsync(IHost host)
    {
        await host.StartAsync();
        return new RunningHost(host);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await host.StopAsync(timeout.Token);
        host.Dispose();
    }
}

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Recommender.Hosting.Demo;

/// <summary>
/// Starts the demo load in the background once the silo is active (so start-up is not held up by it) and waits
/// for it on shutdown. Readiness reports the node ready only after the catalogue records the load as done.
/// </summary>
public sealed class DemoSeedingParticipant(
    DemoSeeder seeder,
    ILocalSiloDetails silo,
    IOptions<RecommenderOptions> options,
    ILogger<DemoSeedingParticipant> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _seeding = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(DemoSeedingParticipant), ServiceLifecycleStage.Active, Start, Stop);

    private Task Start(CancellationToken _)
    {
        if (options.Value.SeedDemo) _seeding = Task.Run(Run);
        return Task.CompletedTask;
    }

    private async Task Run()
    {
        // Retried after a failure; a silo that finds the load done, or claimed by another silo, stops here.
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await seeder.SeedIfEmptyAsync(silo.SiloAddress.ToString(), _stopping.Token);
                return;
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Loading the demo data failed; retrying in 10 s");
                try { await Task.Delay(TimeSpan.FromSeconds(10), _stopping.Token); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    private async Task Stop(CancellationToken cancellation)
    {
        await _stopping.CancelAsync();
        await _seeding.WaitAsync(cancellation).ContinueWith(_ => { }, TaskScheduler.Default);
    }
}

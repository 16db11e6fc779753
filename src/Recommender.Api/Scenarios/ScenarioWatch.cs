using Recommender.Abstractions;

namespace Recommender.Api.Scenarios;

/// <summary>
/// Watches the scenarios' grain for changes (<see cref="IScenariosGrain.Watch"/>) and gives each new set to this front
/// end's <see cref="ScenarioCache"/>, so that a change made through any front end applies to this one's lists as soon as
/// it is stored. The watch is renewed every <see cref="Renewal"/> (it lapses after two minutes, and with the grain's
/// activation); should renewing fail (a silo stopping, the cluster not up yet, a silo of an earlier release that has no
/// watch) it is tried again after a pause, and meanwhile the cache reads the set at most a second old, as it always may.
/// </summary>
public sealed class ScenarioWatch(IGrainFactory grains, ScenarioCache cache, ILogger<ScenarioWatch> logger) : BackgroundService, IScenarioObserver
{
    public static readonly TimeSpan Renewal = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan FirstPause = TimeSpan.FromSeconds(1);

    public void Changed(ScenarioSet set) => cache.Take(set);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var grain = grains.GetGrain<IScenariosGrain>(ScenarioNames.GrainKey);
        var self = grains.CreateObjectReference<IScenarioObserver>(this);
        var (pause, failures) = (FirstPause, 0);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    cache.Take(await grain.Watch(self).WaitAsync(stoppingToken));
                    if (failures > 0) logger.LogInformation("Watching the scenarios for changes again after {Failures} failed attempts", failures);
                    (pause, failures) = (FirstPause, 0);
                    await Task.Delay(Renewal, stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    if (failures++ == 0)
                        logger.LogWarning(e, "Watching the scenarios for changes failed; trying again, and reading them at most a second old meanwhile");
                    await Task.Delay(pause, stoppingToken);
                    pause = pause * 2 < Renewal ? pause * 2 : Renewal;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // The reference, not this object, names the watch to the runtime.
            grains.DeleteObjectReference<IScenarioObserver>(self);
        }
    }
}

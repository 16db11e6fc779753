using Microsoft.Extensions.Logging;
using Recommender.Abstractions;

namespace Recommender.Grains.Experiments;

/// <summary>
/// Every few seconds, sends the silo's A/B test counts to each run's grain (a flush not acknowledged goes again as it
/// was, with the next one); and once more when the silo stops.
/// </summary>
public sealed class ExperimentFlusher(
    ExperimentAccumulator accumulator,
    IGrainFactory grains,
    ILogger<ExperimentFlusher> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly UnsentFlushes _unsent = new();

    /// <summary>
    /// How often counts leave the silo: a test is read over hours or days, so seconds of delay cost nothing, and one
    /// grain write per run and silo in that time is negligible.
    /// </summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ExperimentFlusher), ServiceLifecycleStage.Active, Start, Stop);

    private Task Start(CancellationToken _)
    {
        _loop = Task.Run(() => Periodic.Every(Interval, FlushAsync, _stopping.Token));
        return Task.CompletedTask;
    }

    public async Task FlushAsync()
    {
        foreach (var (id, tally) in _unsent.Take(accumulator.Drain()))
        {
            try
            {
                await grains.GetGrain<IExperimentGrain>(tally.Candidate).AddOnce(id, tally);
                _unsent.Sent(id);
            }
            catch (Exception e)
            {
                // Stored or not, the grain knows the flush by its id when it comes again: nothing counts twice.
                logger.LogWarning(e, "Flushing the A/B test counts of candidate {Version} failed; sending them again with the next flush", tally.Candidate);
            }
        }
    }

    private async Task Stop(CancellationToken cancellation)
    {
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellation).ContinueWith(_ => { }, TaskScheduler.Default);
        await FlushAsync().WaitAsync(cancellation).ContinueWith(_ => { }, TaskScheduler.Default);
    }
}

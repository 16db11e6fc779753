using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Recommender.Abstractions;

namespace Recommender.Grains.Users;

/// <summary>
/// Every retry interval, asks each event-journal partition to hand its pending users' events out again. Every silo
/// does, so a partition whose silo was lost is activated elsewhere, takes over its stored batches and finishes them.
/// </summary>
public sealed class EventJournalRetrier(IGrainFactory grains, IOptions<ServingOptions> options, ILogger<EventJournalRetrier> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(EventJournalRetrier), ServiceLifecycleStage.Active, Start, Stop);

    private Task Start(CancellationToken _)
    {
        _loop = Task.Run(() => Periodic.Every(options.Value.EventJournalRetryInterval, RetryAllAsync, _stopping.Token));
        return Task.CompletedTask;
    }

    /// <summary>Retries every partition; returns the batches still pending, or null when a partition could not be asked.</summary>
    public async Task<int?> RetryAllAsync()
    {
        var calls = Enumerable.Range(0, Partitions.EventJournal).Select(p => grains.GetGrain<IEventJournalGrain>(p).Retry()).ToArray();
        try
        {
            return (await Task.WhenAll(calls)).Sum();
        }
        catch (Exception e)
        {
            // Typically the database is down (a partition cannot load its rows); the next tick tries again.
            logger.LogWarning("Retrying the event journal failed on {Count} of {Partitions} partitions: {Message}",
                calls.Count(c => c.IsFaulted), calls.Length, e.Message);
            return null;
        }
    }

    private async Task Stop(CancellationToken cancellation)
    {
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellation).ContinueWith(_ => { }, TaskScheduler.Default);
    }
}

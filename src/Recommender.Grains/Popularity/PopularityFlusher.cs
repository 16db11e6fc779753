using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Recommender.Abstractions;

namespace Recommender.Grains.Popularity;

/// <summary>
/// Every flush interval, sends the silo's accumulated counts to the partition grains (a failed flush is retried
/// with the next one); every refresh interval, rebuilds the silo's popular list from them.
/// </summary>
public sealed class PopularityFlusher(
    PopularityAccumulator accumulator,
    PopularityCache cache,
    IGrainFactory grains,
    IOptions<ServingOptions> options,
    ILogger<PopularityFlusher> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PopularityFlusher), ServiceLifecycleStage.Active, Start, Stop);

    private Task Start(CancellationToken _)
    {
        _loop = Task.WhenAll(Task.Run(FlushLoop), Task.Run(RefreshLoop));
        return Task.CompletedTask;
    }

    private Task FlushLoop() => Periodic.Every(options.Value.Popularity.FlushInterval, FlushAsync, _stopping.Token);

    private Task RefreshLoop() => Periodic.Every(options.Value.Popularity.RefreshInterval, cache.RebuildAsync, _stopping.Token);

    public async Task FlushAsync()
    {
        var drained = accumulator.Drain();
        if (drained.Count == 0) return;
        try
        {
            await Task.WhenAll(drained
                .GroupBy(p => Partitions.Of(p.Key, Partitions.Popularity))
                .Select(g => grains.GetGrain<IPopularityGrain>(g.Key).Add(new Immutable<PopularityDelta[]>(g.Select(p => new PopularityDelta(p.Key, p.Value)).ToArray()))));
        }
        catch (Exception e)
        {
            // Partitions that did take their share will count it twice when retried: a small overcount beats a lost signal.
            logger.LogWarning(e, "Flushing popularity counts failed; retrying with the next flush");
            accumulator.Return(drained);
        }
    }

    private async Task Stop(CancellationToken cancellation)
    {
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellation).ContinueWith(_ => { }, TaskScheduler.Default);
        await FlushAsync().WaitAsync(cancellation).ContinueWith(_ => { }, TaskScheduler.Default);
    }
}

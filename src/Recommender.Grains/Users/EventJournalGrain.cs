using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Recommender.Abstractions;
using Recommender.Grains.Inference;

namespace Recommender.Grains.Users;

/// <summary>
/// One partition of the event journal (<see cref="EventJournal"/>). Reentrant: batches are handed out side by side,
/// and a retry or an erasure does not wait behind them.
/// </summary>
[Reentrant]
public sealed class EventJournalGrain(IGrainRowStore rows, IOptions<ServingOptions> options, TimeProvider clock, ServingMetrics metrics, ILogger<EventJournalGrain> logger) : Grain, IEventJournalGrain
{
    public const string OwnerPrefix = "journal/";

    private EventJournal _journal = null!;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _journal = new EventJournal(OwnerPrefix + this.GetPrimaryKeyLong(), rows,
            (userId, events, cancellation) => GrainFactory.User(userId).Ingest(new Immutable<UserEvent[]>(events), cancellation),
            options.Value.EventJournalHandOutTimeout, clock, metrics, logger);
        await _journal.LoadAsync(cancellationToken);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _journal?.Release();
        return Task.CompletedTask;
    }

    public Task<BatchIngestResult> Ingest(Immutable<UserEvents[]> batch) => _journal.IngestAsync(batch.Value);

    public Task<int> Retry() => _journal.RetryAsync();

    public Task Forget(string userId) => _journal.ForgetAsync(userId);

    public Task ForgetEvents(string userId, EventRemoval removal) => _journal.ForgetAsync(userId, removal);
}

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Recommender.Abstractions;
using Recommender.Grains.Catalogue;
using Recommender.Grains.Experiments;
using Recommender.Grains.Inference;
using Recommender.Grains.Popularity;
using Recommender.Grains.Ranking;

namespace Recommender.Grains.Users;

/// <summary>
/// A user's ordered history (persisted before an ingest returns) and the interest vector derived from it, cached
/// in memory with the (model version, history version) it came from and recomputed lazily, on the first read
/// after either changes. A recommendation reads the active version once and uses it for inference and every shard;
/// the list served last is kept to count whether the user's next event was in it.
/// </summary>
public sealed class UserGrain(
    [PersistentState("user")] IPersistentState<UserState> state,
    CatalogueCache catalogue,
    PopularityAccumulator accumulator,
    ExperimentAccumulator experiments,
    HistoryRanker ranker,
    ServingMetrics metrics,
    TimeProvider clock,
    IOptions<ServingOptions> options,
    ILogger<UserGrain> logger) : Grain, IUserGrain
{
    private readonly NextItemTracker _nextItem = new(options.Value.NextItemWindow);
    private UserHistory? _history;
    private CachedVector? _vector;
    private (long Version, string[] Seen, string[] Dismissed)? _distinctItems;
    // Set when a failed write could not be followed by a re-read: memory may hold events that are not stored.
    private bool _unstored;
    private int? _bucket;

    private UserHistory History => _history ??= new UserHistory(state.State, options.Value.HistoryRetention);

    /// <summary>The user's bucket in A/B test counts (a hash of the id, worked out once).</summary>
    private int Bucket => _bucket ??= ServingModel.Bucket(GrainKeys.IdOf(this));

    /// <summary>The partition of the user directory that lists this user.</summary>
    private IUserDirectoryGrain UserDirectory => GrainFactory.GetGrain<IUserDirectoryGrain>(Partitions.Of(GrainKeys.IdOf(this), Partitions.UserDirectory));

    public async Task<IngestResult> Ingest(Immutable<UserEvent[]> events, CancellationToken cancellation)
    {
        await ReloadIfUnstored();
        // The caller gave up on this attempt and may already have sent the events again: nothing has changed yet.
        cancellation.ThrowIfCancellationRequested();
        var firstEvents = state.State.TotalCount == 0;
        var accepted = new List<UserEvent>();
        var result = History.Add(events.Value, accepted);
        if (result.Accepted > 0)
        {
            var storedVersion = state.Etag;
            var written = Counters();
            try
            {
                // The directory lists the user before the first event is acknowledged, so an export never misses one.
                if (firstEvents) await UserDirectory.Add(GrainKeys.IdOf(this));
                await state.WriteStateAsync();
            }
            catch (Exception e)
            {
                // The write failed: drop the in-memory change so that memory matches what is stored, and let the caller
                // retry. Were the events kept, the retry would count them as repeats and they would never be stored.
                // Unless it did not: a connection lost just after the database committed fails a write that is stored.
                // Then what is read back is this write (a new version holding these counters), and it is acknowledged.
                var readBack = await DiscardUnstored();
                var storedThisWrite = readBack && e is not Orleans.Storage.InconsistentStateException
                    && state.Etag != storedVersion && Counters() == written;
                if (!storedThisWrite) throw;
                logger.LogWarning(e, "User {UserId}: the write reported a failure but was stored; its {Count} events are acknowledged", GrainKeys.IdOf(this), result.Accepted);
            }
            accumulator.Record(accepted);
            var now = clock.GetUtcNow();
            foreach (var dismissed in _nextItem.Dismissals(accepted, now))
            {
                metrics.DismissedItem(dismissed.ModelVersion, dismissed.Source, dismissed.Scenario);
                if (dismissed.Arm is { } arm) experiments.Dismissed(arm, Bucket, dismissed.Scenario);
            }
            foreach (var purchased in _nextItem.Purchases(accepted, now))
            {
                metrics.PurchasedItem(purchased.ModelVersion, purchased.Source, purchased.Paid, purchased.Scenario);
                if (purchased.Arm is { } arm) experiments.Purchased(arm, Bucket, purchased.Paid, purchased.Scenario);
            }
            if (_nextItem.Follow(accepted, now) is { } next)
            {
                metrics.NextItem(next.ModelVersion, next.Source, next.Rank, next.Scenario);
                if (next.Arm is { } arm) experiments.Record(arm, Bucket, next.Rank, next.Scenario);
            }
        }
        return result;
    }

    public async Task<UserHistoryView> GetHistory(int? limit, CancellationToken cancellation)
    {
        await ReloadIfUnstored();
        cancellation.ThrowIfCancellationRequested();
        return History.View(limit);
    }

    public async Task<long> Erase()
    {
        await ReloadIfUnstored();
        // Events of a multi-user batch still waiting in the event journal would otherwise be written after the erasure.
        await InEveryJournal(journal => journal.Forget(GrainKeys.IdOf(this)));
        var events = state.State.Events;
        long erased = events.Count;
        if (state.State.TotalCount > 0 || erased > 0)
        {
            try
            {
                // The storage row keeps its version (for the next write's concurrency check) and no payload.
                await state.ClearStateAsync();
            }
            catch
            {
                // Nothing is known to be erased: memory goes back to what is stored, and the caller retries.
                await DiscardUnstored();
                throw;
            }
            state.State = new UserState();
            // The popular lists count the user's events no more (they hold no user id, so only this grain can say).
            accumulator.Retract(events.Select(e => e.ToEvent()));
            _history = null;
            _vector = null;
            _distinctItems = null;
            _nextItem.Forget();
        }
        // Also when nothing was stored: a retry after a failed removal finishes it. The next event lists the user again.
        await UserDirectory.Remove(GrainKeys.IdOf(this));
        return erased;
    }

    public async Task<int> RemoveEvents(EventRemoval removal)
    {
        await ReloadIfUnstored();
        // Events of a multi-user batch still waiting in the event journal would otherwise be written after the removal.
        await InEveryJournal(journal => journal.ForgetEvents(GrainKeys.IdOf(this), removal));
        var removed = History.Remove(removal);
        if (removed.Count == 0) return 0;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Nothing is known to be removed: memory goes back to what is stored, and the caller retries (a removal
            // made twice removes nothing the second time).
            await DiscardUnstored();
            throw;
        }
        accumulator.Retract(removed.Select(e => e.ToEvent()));
        return removed.Count;
    }

    /// <summary>Runs <paramref name="call"/> on every partition of the event journal, which may hold this user's pending events.</summary>
    private Task InEveryJournal(Func<IEventJournalGrain, Task> call) =>
        Task.WhenAll(Enumerable.Range(0, Partitions.EventJournal).Select(p => call(GrainFactory.GetGrain<IEventJournalGrain>(p))));

    public async Task<Abstractions.Ranking> Recommend(RecommendationRequest request, CancellationToken cancellation)
    {
        await ReloadIfUnstored();
        // The caller gave up on this attempt and has asked again: no need to encode for it.
        cancellation.ThrowIfCancellationRequested();
        var snapshot = await catalogue.GetAsync();
        if (snapshot.Model is null || snapshot.Loading) return HistoryRanker.NotReady;
        // The active version, or the candidate for the users drawn for it.
        var model = ServingModel.For(snapshot, GrainKeys.IdOf(this));
        var (vector, cached) = History.Events.Count > 0 ? await InterestVector(model) : (null, false);
        var (seen, dismissed) = DistinctItems();
        var ranking = await ranker.Rank(snapshot, model, request, seen, dismissed, vector, cached, () => History.RecentDistinctItems(HistoryExplanations.RecentItems));
        var arm = ServingModel.ArmOf(snapshot, ranking);
        _nextItem.Served(ranking, History.Events.Count > 0 ? History.Events[^1].Timestamp : null, clock.GetUtcNow(), request.Offset,
            NextItemTracker.ListOf(request), arm, request.Scenario);
        // A next page is the same list seen further down.
        if (arm is not null && request.Offset == 0)
        {
            experiments.Served(arm, Bucket, request.Scenario);
            await CountOnce(arm);
        }
        return ranking;
    }

    /// <summary>
    /// Counts the user on <paramref name="arm"/>'s side the first time the run serves them, once the mark that says so
    /// is stored: the sample-ratio check needs each user once, and a grain's memory does not outlive its activation.
    /// A failed write leaves the user uncounted (the next list tries again) and the list served.
    /// </summary>
    private async Task CountOnce(ExperimentArm arm)
    {
        if (state.State.CountedCandidate == arm.Candidate && state.State.CountedSince == arm.Since) return;
        var (candidate, since) = (state.State.CountedCandidate, state.State.CountedSince);
        (state.State.CountedCandidate, state.State.CountedSince) = (arm.Candidate, arm.Since);
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception e)
        {
            // As for events: a write reported failed may have been stored, and what is read back says which.
            (state.State.CountedCandidate, state.State.CountedSince) = (candidate, since);
            var stored = await DiscardUnstored() && state.State.CountedCandidate == arm.Candidate && state.State.CountedSince == arm.Since;
            logger.LogWarning(e, "User {UserId}: the write of the A/B test run's mark reported a failure{Outcome}", GrainKeys.IdOf(this),
                stored ? " but was stored; the user is counted" : "; the next list tries again");
            if (!stored) return;
        }
        experiments.UserServed(arm, Bucket);
        metrics.ExperimentUser(arm);
    }

    /// <summary>What identifies one write of the history: only that write leaves these three values together.</summary>
    private (long Total, long Version, long NextArrival) Counters() =>
        (state.State.TotalCount, state.State.HistoryVersion, state.State.NextArrival);

    /// <summary>
    /// Brings memory back to what is stored after a failed write; when storage cannot be read either, the next call
    /// does. True when memory now holds what is stored.
    /// </summary>
    private async Task<bool> DiscardUnstored()
    {
        _unstored = true;
        try
        {
            await ReloadIfUnstored();
            return true;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "User {UserId}: storage could not be read after a failed write; the next call reads it first", GrainKeys.IdOf(this));
            return false;
        }
    }

    private async Task ReloadIfUnstored()
    {
        if (!_unstored) return;
        await state.ReadStateAsync();
        _history = null;
        _vector = null;
        _distinctItems = null;
        _unstored = false;
    }

    /// <summary>The interest vector for the current history under <paramref name="model"/>; null when no history item is known to the model.</summary>
    private async Task<(byte[]? Vector, bool Cached)> InterestVector(ActiveModel model)
    {
        if (_vector is { } v && v.ModelVersion == model.Version && v.HistoryVersion == History.Version) return (v.Vector, true);
        var historyVersion = History.Version;
        var recent = ranker.EncoderInput(model.Version, (count, known) => History.RecentItems(count, known, options.Value.HistoryWindow));
        // Events that do not change what the model reads (a dismissal, an item the model does not know) keep the vector;
        // a digest of the input, not the input, is kept with it.
        var input = EncoderInputDigest.Of(recent);
        if (_vector is { } same && same.ModelVersion == model.Version && same.Input == input)
        {
            _vector = same with { HistoryVersion = historyVersion };
            return (same.Vector, true);
        }
        var vector = await ranker.Encode(model.Version, recent, $"user {GrainKeys.IdOf(this)}");
        _vector = new CachedVector(model.Version, historyVersion, input, vector);
        return (vector, false);
    }

    /// <summary>The items the user has had, and those of them the user dismissed last (never recommended).</summary>
    private (string[] Seen, string[] Dismissed) DistinctItems()
    {
        if (_distinctItems is { } d && d.Version == History.Version) return (d.Seen, d.Dismissed);
        var (seen, dismissed) = History.DistinctItems();
        _distinctItems = (History.Version, seen, dismissed);
        return (seen, dismissed);
    }

    private sealed record CachedVector(string ModelVersion, long HistoryVersion, EncoderInputDigest Input, byte[]? Vector);
}

using Recommender.Abstractions;

namespace Recommender.Grains.Users;

/// <summary>
/// Whether a user's next event was in the list last served to them, and at what rank: the live counterpart of the
/// offline next-item metrics (HR@K, NDCG@K), by the model version and source that ranked the list. The next event is
/// the first one stored within <paramref name="window"/> of the serving that is not older than the newest event the
/// ranking read (an older one is history arriving late, not an answer to the list) and is not a dismissal. The list
/// lives in memory only.
/// </summary>
public sealed class NextItemTracker(TimeSpan window)
{
    private ServedList? _served;

    /// <summary>
    /// Remembers <paramref name="ranking"/>, served at <paramref name="at"/> for a history whose newest event has the
    /// timestamp <paramref name="newestEvent"/> (null for no history); it replaces the list served before.
    /// </summary>
    public void Served(Abstractions.Ranking ranking, DateTimeOffset? newestEvent, DateTimeOffset at) =>
        _served = ranking.Items.Count == 0 || window <= TimeSpan.Zero
            ? null
            : new ServedList([.. ranking.Items.Select(i => i.ItemId)], ranking.ModelVersion, ranking.Source, newestEvent, at);

    /// <summary>Drops the list served last (the user was erased).</summary>
    public void Forget() => _served = null;

    /// <summary>
    /// The outcome for the list served last, when <paramref name="stored"/> (events just stored, in timestamp order)
    /// holds the next event; a list is answered once. Null when nothing is waiting or none of them follows it.
    /// </summary>
    public NextItemOutcome? Follow(IReadOnlyList<UserEvent> stored, DateTimeOffset now)
    {
        if (_served is not { } served) return null;
        if (now - served.At > window)
        {
            _served = null;
            return null;
        }
        // A dismissal is a reaction to the list, not what the user went on to do.
        var next = stored.FirstOrDefault(e => e.Type.IsInterest() && (served.NewestEvent is not { } newest || e.Timestamp >= newest));
        if (next is null) return null;
        _served = null;
        var index = Array.IndexOf(served.Items, next.ItemId);
        return new NextItemOutcome(served.ModelVersion, served.Source, index < 0 ? null : index + 1);
    }

    private sealed record ServedList(string[] Items, string ModelVersion, RankingSource Source, DateTimeOffset? NewestEvent, DateTimeOffset At);
}

/// <summary>A user's next event after a served list: the list's model version and source, and the item's 1-based rank in it (null: not in it).</summary>
public readonly record struct NextItemOutcome(string ModelVersion, RankingSource Source, int? Rank);

using Recommender.Abstractions;

namespace Recommender.Grains.Users;

/// <summary>
/// Whether a user's next event was in the list last served to them, and at what rank: the live counterpart of the
/// offline next-item metrics (HR@K, NDCG@K), by the model version and source that ranked the list; and which of its
/// items the user dismissed. The next event is the first one stored within <paramref name="window"/> of the serving
/// that is not older than the newest event the ranking read (an older one is history arriving late, not an answer to
/// the list) and is not a dismissal. The list lives in memory only.
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
        if (Live(now) is not { Answered: false } served) return null;
        // A dismissal is a reaction to the list, not what the user went on to do.
        var next = stored.FirstOrDefault(e => e.Type.IsInterest() && served.Follows(e));
        if (next is null) return null;
        served.Answered = true;
        var index = Array.IndexOf(served.Items, next.ItemId);
        return new NextItemOutcome(served.ModelVersion, served.Source, index < 0 ? null : index + 1);
    }

    /// <summary>
    /// The items of the list served last that <paramref name="stored"/> dismisses, with their ranks, each item once
    /// while the list is within the window (answered or not).
    /// </summary>
    public IReadOnlyList<NextItemOutcome> Dismissals(IReadOnlyList<UserEvent> stored, DateTimeOffset now)
    {
        if (Live(now) is not { } served) return [];
        List<NextItemOutcome>? dismissed = null;
        foreach (var e in stored)
        {
            if (e.Type.IsInterest() || !served.Follows(e)) continue;
            var index = Array.IndexOf(served.Items, e.ItemId);
            if (index >= 0 && served.DismissedRanks.Add(index + 1))
                (dismissed ??= []).Add(new NextItemOutcome(served.ModelVersion, served.Source, index + 1));
        }
        return dismissed ?? [];
    }

    /// <summary>The list served last while it is within the window.</summary>
    private ServedList? Live(DateTimeOffset now)
    {
        if (_served is { } served && now - served.At > window) _served = null;
        return _served;
    }

    private sealed record ServedList(string[] Items, string ModelVersion, RankingSource Source, DateTimeOffset? NewestEvent, DateTimeOffset At)
    {
        public bool Answered { get; set; }

        public HashSet<int> DismissedRanks { get; } = [];

        /// <summary>Whether the event came after the history the list was ranked from (not late history).</summary>
        public bool Follows(UserEvent e) => NewestEvent is not { } newest || e.Timestamp >= newest;
    }
}

/// <summary>A user's event after a served list: the list's model version and source, and the item's 1-based rank in it (null: not in it).</summary>
public readonly record struct NextItemOutcome(string ModelVersion, RankingSource Source, int? Rank);

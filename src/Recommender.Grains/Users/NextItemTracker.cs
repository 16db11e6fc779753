using Recommender.Abstractions;

namespace Recommender.Grains.Users;

/// <summary>
/// Whether a user's next event was in the list last served to them, and at what rank: the live counterpart of the
/// offline next-item metrics (HR@K, NDCG@K), by the model version and source that ranked the list; and which of its
/// items the user dismissed or bought. The next event is the first one stored within <paramref name="window"/> of the serving
/// that is not older than the newest event the ranking read (an older one is history arriving late, not an answer to
/// the list) and is not a dismissal. The list lives in memory only.
/// </summary>
public sealed class NextItemTracker(TimeSpan window)
{
    private ServedList? _served;

    /// <summary>
    /// Remembers <paramref name="ranking"/>, served at <paramref name="at"/> for a history whose newest event has the
    /// timestamp <paramref name="newestEvent"/> (null for no history); it replaces the list served before, unless it is
    /// that list's next page (<paramref name="offset"/> where the list ends, the same history, version, source and
    /// <paramref name="list"/>, no next event yet), which it extends: the user has seen both pages, and an item's rank
    /// counts from the top.
    /// </summary>
    /// <param name="list">What makes two requests pages of one list (<see cref="ListOf"/>).</param>
    /// <param name="arm">The side of a running A/B test that served the list, if any.</param>
    public void Served(Abstractions.Ranking ranking, DateTimeOffset? newestEvent, DateTimeOffset at, int offset = 0, string list = "", ExperimentArm? arm = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (ranking.Items.Count == 0 || window <= TimeSpan.Zero)
        {
            _served = null;
            return;
        }
        var items = ranking.Items.Select(i => i.ItemId);
        _served = offset > 0 && Live(at) is { Answered: false } previous && previous.FirstRank + previous.Items.Length == offset + 1
            && previous.ModelVersion == ranking.ModelVersion && previous.Source == ranking.Source && previous.NewestEvent == newestEvent
            && previous.List == list && previous.Arm == arm
            ? previous with { Items = [.. previous.Items, .. items], At = at }
            : new ServedList([.. items], ranking.ModelVersion, ranking.Source, newestEvent, at, offset + 1, list, arm);
    }

    /// <summary>The filters that make a list (not its page, size or explanations): requests alike in these are pages of one list.</summary>
    public static string ListOf(RecommendationRequest request) =>
        string.Join('\u001f', [
            request.IncludeSeen ? "seen" : "",
            string.Join('\u001e', request.AnyTags.Select(t => t.ToUpperInvariant()).Order(StringComparer.Ordinal)),
            string.Join('\u001e', (request.ExcludeTags ?? []).Select(t => t.ToUpperInvariant()).Order(StringComparer.Ordinal)),
            request.Diversity.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            .. (request.Exclude ?? []).Order(StringComparer.Ordinal),
            // Boosts last and only when given, so that lists without them keep the keys they had before boosts existed.
            .. request.Boosts is { Length: > 0 } boosts
                ? [string.Join('\u001e', boosts.Select(b => "\u001d" + b.Tag.ToUpperInvariant() + "=" + b.Factor.ToString("R", System.Globalization.CultureInfo.InvariantCulture))
                    .Order(StringComparer.Ordinal))]
                : Array.Empty<string>()]);

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
        return new NextItemOutcome(served.ModelVersion, served.Source, index < 0 ? null : served.FirstRank + index, served.Arm);
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
            if (index >= 0 && served.DismissedRanks.Add(served.FirstRank + index))
                (dismissed ??= []).Add(new NextItemOutcome(served.ModelVersion, served.Source, served.FirstRank + index, served.Arm));
        }
        return dismissed ?? [];
    }

    /// <summary>
    /// The items of the list served last that <paramref name="stored"/> purchases, with their ranks, each item once
    /// while the list is within the window (answered or not): what the list sold, whether or not the purchase was the
    /// user's next event (a view or a cart usually comes first).
    /// </summary>
    public IReadOnlyList<NextItemOutcome> Purchases(IReadOnlyList<UserEvent> stored, DateTimeOffset now)
    {
        if (Live(now) is not { } served) return [];
        List<NextItemOutcome>? purchased = null;
        foreach (var e in stored)
        {
            if (e.Type != EventType.Purchase || !served.Follows(e)) continue;
            var index = Array.IndexOf(served.Items, e.ItemId);
            if (index >= 0 && served.PurchasedRanks.Add(served.FirstRank + index))
                (purchased ??= []).Add(new NextItemOutcome(served.ModelVersion, served.Source, served.FirstRank + index, served.Arm));
        }
        return purchased ?? [];
    }

    /// <summary>The list served last while it is within the window.</summary>
    private ServedList? Live(DateTimeOffset now)
    {
        if (_served is { } served && now - served.At > window) _served = null;
        return _served;
    }

    /// <param name="FirstRank">The rank of the first item: 1, or the offset + 1 of a page served on its own.</param>
    private sealed record ServedList(string[] Items, string ModelVersion, RankingSource Source, DateTimeOffset? NewestEvent, DateTimeOffset At, int FirstRank,
        string List, ExperimentArm? Arm)
    {
        public bool Answered { get; set; }

        // A page extending the list keeps the same set (records copy the reference), so a dismissal is counted once.
        public HashSet<int> DismissedRanks { get; init; } = [];

        public HashSet<int> PurchasedRanks { get; init; } = [];

        /// <summary>Whether the event came after the history the list was ranked from (not late history).</summary>
        public bool Follows(UserEvent e) => NewestEvent is not { } newest || e.Timestamp >= newest;
    }
}

/// <summary>
/// A user's event after a served list: the list's model version and source, the item's 1-based rank in it (null: not
/// in it), and the side of the A/B test that served the list (null: none ran).
/// </summary>
public readonly record struct NextItemOutcome(string ModelVersion, RankingSource Source, int? Rank, ExperimentArm? Arm = null);

using Recommender.Abstractions;

namespace Recommender.Grains.Users;

/// <summary>
/// Whether a user's next event was in the list last served to them, and at what rank: the live counterpart of the
/// offline next-item metrics (HR@K, NDCG@K), by the model version and source that ranked the list; and which of its
/// items the user dismissed or bought. The next event is the first one stored within <paramref name="window"/> of the serving
/// that is not older than the newest event the ranking read (an older one is history arriving late, not an answer to
/// the list) and is not a dismissal. A purchase or a dismissal counts against the newest list within the window that
/// showed the item, which need not be the last: a user who opens a listed item is usually served a new list on its
/// page, without the item (it is in the history now), and buys it from there. The lists live in memory only.
/// </summary>
/// <param name="earlierLists">Lists kept besides the last one, for purchases and dismissals of items they showed (a
/// visitor's sessions carry neither, so a visitor's tracker keeps none).</param>
public sealed class NextItemTracker(TimeSpan window, int earlierLists = NextItemTracker.EarlierLists)
{
    /// <summary>Lists a user's tracker keeps besides the last one.</summary>
    public const int EarlierLists = 8;

    private ServedList? _served;

    // Newest first, each within the window when last looked at.
    private readonly List<ServedList> _earlier = [];

    /// <summary>
    /// Remembers <paramref name="ranking"/>, served at <paramref name="at"/> for a history whose newest event has the
    /// timestamp <paramref name="newestEvent"/> (null for no history); it replaces the list served before, unless it is
    /// that list's next page (<paramref name="offset"/> where the list ends, the same history, version, source and
    /// <paramref name="list"/>, no next event yet), which it extends: the user has seen both pages, and an item's rank
    /// counts from the top.
    /// </summary>
    /// <param name="list">What makes two requests pages of one list (<see cref="ListOf"/>).</param>
    /// <param name="arm">The side of a running A/B test that served the list, if any.</param>
    /// <param name="scenario">The scenario the list was read under, if any (<see cref="RecommendationRequest.Scenario"/>).</param>
    public void Served(Abstractions.Ranking ranking, DateTimeOffset? newestEvent, DateTimeOffset at, int offset = 0, string list = "", ExperimentArm? arm = null,
        string? scenario = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (window <= TimeSpan.Zero) return;
        var previous = Live(at);
        if (ranking.Items.Count == 0)
        {
            Retire(previous);
            return;
        }
        var items = ranking.Items.Select(i => i.ItemId);
        if (offset > 0 && previous is { Answered: false } && previous.FirstRank + previous.Items.Length == offset + 1
            && previous.ModelVersion == ranking.ModelVersion && previous.Source == ranking.Source && previous.NewestEvent == newestEvent
            && previous.List == list && previous.Arm == arm && previous.Scenario == scenario)
        {
            _served = previous with { Items = [.. previous.Items, .. items], At = at };
            return;
        }
        Retire(previous);
        _served = new ServedList([.. items], ranking.ModelVersion, ranking.Source, newestEvent, at, offset + 1, list, arm, scenario);
    }

    /// <summary>The last list becomes an earlier one (the oldest beyond the number kept is let go).</summary>
    private void Retire(ServedList? last)
    {
        _served = null;
        if (last is null || earlierLists <= 0) return;
        _earlier.Insert(0, last);
        if (_earlier.Count > earlierLists) _earlier.RemoveAt(_earlier.Count - 1);
    }

    /// <summary>The filters that make a list (not its page, size or explanations): requests alike in these are pages of one list.</summary>
    public static string ListOf(RecommendationRequest request) =>
        string.Join('\u001f', [
            request.IncludeSeen ? "seen" : "",
            string.Join('\u001e', request.AnyTags.Select(t => t.ToUpperInvariant()).Order(StringComparer.Ordinal)),
            string.Join('\u001e', (request.ExcludeTags ?? []).Select(t => t.ToUpperInvariant()).Order(StringComparer.Ordinal)),
            request.Diversity.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            .. (request.Exclude ?? []).Order(StringComparer.Ordinal),
            // Boosts, caps and the scenario last and only when given, so that lists without them keep the keys they had before them.
            .. request.Boosts is { Length: > 0 } boosts
                ? [string.Join('\u001e', boosts.Select(b => "\u001d" + b.Tag.ToUpperInvariant() + "=" + b.Factor.ToString("R", System.Globalization.CultureInfo.InvariantCulture))
                    .Order(StringComparer.Ordinal))]
                : Array.Empty<string>(),
            .. request.Caps is { Length: > 0 } caps
                ? [string.Join('\u001e', caps.Select(c => (c.Each ? "\u001c\u001b" : "\u001c") + c.Tag.ToUpperInvariant() + "=" + c.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    .Order(StringComparer.Ordinal))]
                : Array.Empty<string>(),
            .. request.Scenario is { } scenario ? ["\u001a" + scenario] : Array.Empty<string>()]);

    /// <summary>Drops the list served last (the user was erased).</summary>
    public void Forget()
    {
        _served = null;
        _earlier.Clear();
    }

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
        return new NextItemOutcome(served.ModelVersion, served.Source, index < 0 ? null : served.FirstRank + index, served.Arm, Scenario: served.Scenario);
    }

    /// <summary>
    /// The items that <paramref name="stored"/> dismisses, each with its rank in the newest list within the window that
    /// showed it (answered or not), each item once a list.
    /// </summary>
    public IReadOnlyList<NextItemOutcome> Dismissals(IReadOnlyList<UserEvent> stored, DateTimeOffset now) =>
        Attribute(stored, now, e => !e.Type.IsInterest(), served => served.DismissedRanks);

    /// <summary>
    /// The items that <paramref name="stored"/> purchases, each with its rank in the newest list within the window that
    /// showed it (answered or not) and the amount paid (the event's value, 0 without one), each item once a list: what
    /// the lists sold, whether or not the purchase was the user's next event (a view or a cart usually comes first, and
    /// often a new list with it).
    /// </summary>
    public IReadOnlyList<NextItemOutcome> Purchases(IReadOnlyList<UserEvent> stored, DateTimeOffset now) =>
        Attribute(stored, now, e => e.Type == EventType.Purchase, served => served.PurchasedRanks);

    /// <summary>
    /// The events <paramref name="picks"/> takes, each counted against the newest live list that showed its item
    /// (and was ranked before it), unless that list has counted the item already (<paramref name="counted"/>).
    /// </summary>
    private List<NextItemOutcome> Attribute(IReadOnlyList<UserEvent> stored, DateTimeOffset now, Func<UserEvent, bool> picks,
        Func<ServedList, HashSet<int>> counted)
    {
        List<NextItemOutcome>? outcomes = null;
        if (Live(now) is null && _earlier.Count == 0) return [];
        foreach (var e in stored)
        {
            if (!picks(e)) continue;
            foreach (var served in Lists())
            {
                var index = served.Follows(e) ? Array.IndexOf(served.Items, e.ItemId) : -1;
                if (index < 0) continue;
                if (counted(served).Add(served.FirstRank + index))
                    (outcomes ??= []).Add(new NextItemOutcome(served.ModelVersion, served.Source, served.FirstRank + index, served.Arm, e.Value ?? 0, served.Scenario));
                break;
            }
        }
        return outcomes ?? [];
    }

    /// <summary>The live lists, newest first (call <see cref="Live"/> first).</summary>
    private IEnumerable<ServedList> Lists() => _served is null ? _earlier : _earlier.Prepend(_served);

    /// <summary>The list served last while it is within the window; earlier lists past it are let go.</summary>
    private ServedList? Live(DateTimeOffset now)
    {
        if (_served is { } served && now - served.At > window) _served = null;
        _earlier.RemoveAll(e => now - e.At > window);
        return _served;
    }

    /// <param name="FirstRank">The rank of the first item: 1, or the offset + 1 of a page served on its own.</param>
    private sealed record ServedList(string[] Items, string ModelVersion, RankingSource Source, DateTimeOffset? NewestEvent, DateTimeOffset At, int FirstRank,
        string List, ExperimentArm? Arm, string? Scenario)
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
/// in it), the side of the A/B test that served the list (null: none ran), and for a purchase the amount paid (its
/// value; 0 for other events and for a purchase without one), and the scenario the list was read under (null: none).
/// </summary>
public readonly record struct NextItemOutcome(string ModelVersion, RankingSource Source, int? Rank, ExperimentArm? Arm = null, double Paid = 0,
    string? Scenario = null);

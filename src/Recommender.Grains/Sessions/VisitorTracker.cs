using Recommender.Abstractions;
using Recommender.Grains.Users;

namespace Recommender.Grains.Sessions;

/// <summary>
/// What an anonymous visitor did after a list, read from their sessions: nothing of a session is stored, so the visitor's
/// next action is the first item of a later session that the session before did not hold (in the order sent), and
/// it answers the list served then as a user's next event answers theirs (<see cref="NextItemTracker"/>, within the
/// same window). A session sent again with the same items (a reload, another list on the page) answers nothing.
/// </summary>
public sealed class VisitorTracker(TimeSpan window)
{
    private readonly NextItemTracker _lists = new(window, earlierLists: 0);
    private HashSet<string>? _had;

    /// <summary>
    /// Takes a session of <paramref name="items"/> served <paramref name="ranking"/> at <paramref name="at"/>; the
    /// outcome for the list served before, when this session holds a new item.
    /// </summary>
    public NextItemOutcome? Served(IReadOnlyList<string> items, Abstractions.Ranking ranking, DateTimeOffset at, int offset, string list, ExperimentArm? arm,
        string? scenario = null)
    {
        NextItemOutcome? next = null;
        if (_had is { } had && items.FirstOrDefault(i => !had.Contains(i)) is { } first)
            next = _lists.Follow([new UserEvent(first, EventType.View, at, "")], at);
        _had = items.ToHashSet(StringComparer.Ordinal);
        // No history the list was ranked from to be older than: every later session follows it.
        _lists.Served(ranking, newestEvent: null, at, offset, list, arm, scenario);
        return next;
    }
}

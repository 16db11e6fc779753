using Recommender.Abstractions;

namespace Recommender.Grains.Scenarios;

/// <summary>
/// One change of the scenarios, kept so that it can be shown and undone: the revision it made, when, who made it and
/// why, and each scenario it stored or deleted as that scenario was before (null: there was none).
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.scenario-undo")]
public sealed record ScenarioUndo(
    [property: Id(0)] long Revision,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] Dictionary<string, Scenario?> Before,
    [property: Id(3)] ScenarioAuthor? Author = null);

/// <summary>
/// The scenarios' recent changes, oldest first, one for each revision, so that a merchandiser sees who-changed-what
/// (what and when) and can go back to a revision. Kept with the scenarios, in the same write, so that a change and its
/// entry are stored together or not at all; bounded so that the write stays small.
/// </summary>
public static class ScenarioLog
{
    public const int MaxChanges = Limits.ScenarioHistoryChanges;

    public const int MaxRecords = Limits.ScenarioHistoryRecords;

    /// <summary>
    /// <paramref name="log"/> with the change from <paramref name="before"/> to <paramref name="after"/> (made as
    /// <paramref name="revision"/> at <paramref name="at"/> by <paramref name="author"/>) added, and its oldest changes dropped past the bounds. A
    /// scenario counts as changed unless <paramref name="after"/> holds the very record <paramref name="before"/> did.
    /// </summary>
    public static List<ScenarioUndo> Add(IReadOnlyList<ScenarioUndo> log, long revision, DateTimeOffset at, ScenarioAuthor author,
        IReadOnlyDictionary<string, Scenario> before, IReadOnlyDictionary<string, Scenario> after)
    {
        var changed = new Dictionary<string, Scenario?>(StringComparer.Ordinal);
        foreach (var (name, old) in before)
            if (!after.TryGetValue(name, out var now) || !ReferenceEquals(now, old)) changed[name] = old;
        foreach (var name in after.Keys)
            if (!before.ContainsKey(name)) changed[name] = null;
        List<ScenarioUndo> kept = [.. log, new(revision, at, changed, author)];
        var records = kept.Sum(c => c.Before.Count);
        var drop = 0;
        while (kept.Count - drop > MaxChanges || (records > MaxRecords && kept.Count - drop > 1)) records -= kept[drop++].Before.Count;
        return kept[drop..];
    }

    /// <summary>The earliest revision <paramref name="log"/> can go back to from <paramref name="current"/>: the one before its oldest change.</summary>
    public static long Oldest(ScenarioSet current, IReadOnlyList<ScenarioUndo> log) => log.Count == 0 ? current.Revision : log[0].Revision - 1;

    /// <summary>The scenarios as they were at <paramref name="revision"/>; null when that is later than now or earlier than the log reaches.</summary>
    public static Dictionary<string, Scenario>? At(ScenarioSet current, IReadOnlyList<ScenarioUndo> log, long revision)
    {
        if (revision > current.Revision || revision < Oldest(current, log)) return null;
        var set = new Dictionary<string, Scenario>(current.Scenarios, StringComparer.Ordinal);
        for (var i = log.Count - 1; i >= 0 && log[i].Revision > revision; i--) Undo(set, log[i]);
        return set;
    }

    /// <summary>
    /// The newest <paramref name="limit"/> changes, newest first, each scenario they changed with its rules before and
    /// after; with <paramref name="scenario"/>, only the changes of that scenario, and of each only its own edit.
    /// </summary>
    public static ScenarioHistory Describe(ScenarioSet current, IReadOnlyList<ScenarioUndo> log, int limit, string? scenario = null)
    {
        var set = new Dictionary<string, Scenario>(current.Scenarios, StringComparer.Ordinal);
        var changes = new List<ScenarioHistoryEntry>();
        for (var i = log.Count - 1; i >= 0 && changes.Count < limit; i--)
        {
            var change = log[i];
            if (scenario is null || change.Before.ContainsKey(scenario))
                changes.Add(new(change.Revision, change.At,
                    [.. change.Before.Keys.Where(name => scenario is null || name == scenario).Order(StringComparer.Ordinal)
                        .Select(name => new ScenarioEdit(name, change.Before[name], set.GetValueOrDefault(name)))],
                    change.Author));
            Undo(set, change);
        }
        return new(current.Revision, Oldest(current, log), [.. changes]);
    }

    private static void Undo(Dictionary<string, Scenario> set, ScenarioUndo change)
    {
        foreach (var (name, old) in change.Before)
        {
            if (old is null) set.Remove(name);
            else set[name] = old;
        }
    }
}

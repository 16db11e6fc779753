using Recommender.Abstractions;

namespace Recommender.Grains.Scenarios;

/// <summary>
/// When each scenario last changed, so that a change conditional on some scenarios (If-Match) is refused only when one
/// of them changed: each record carries the revision that stored it, and the names deleted keep the revision that
/// deleted them, the most recent <see cref="MaxDeletionsKept"/> of them (any other name absent may have been deleted
/// as late as <see cref="ScenariosState.DeletionsForgottenUpTo"/>).
/// </summary>
public static class ScenarioRevisions
{
    /// <summary>How many deleted names keep the revision that deleted them.</summary>
    public const int MaxDeletionsKept = 1000;

    /// <summary>The latest revision that stored or deleted the scenario of that name, as far as the state keeps it.</summary>
    public static long LastChange(ScenariosState state, string name) =>
        state.Scenarios.TryGetValue(name, out var scenario) ? scenario.Revision
        : state.DeletedAt.TryGetValue(name, out var deleted) ? deleted
        : state.DeletionsForgottenUpTo;

    /// <summary>
    /// Makes a state last written by a release that did not keep revisions (its records without one, its deletions not
    /// kept) one that does: each record is taken as stored at the set's revision, and any absent name as deleted then,
    /// so that a change conditional on them holds only at that revision, as every conditional change did before.
    /// </summary>
    public static void Upgrade(ScenariosState state)
    {
        if (state.KeepsRevisions) return;
        state.Scenarios = state.Scenarios.ToDictionary(s => s.Key, s => s.Value with { Revision = state.Revision }, StringComparer.Ordinal);
        state.DeletedAt = new Dictionary<string, long>(StringComparer.Ordinal);
        state.DeletionsForgottenUpTo = state.Revision;
        state.KeepsRevisions = true;
    }

    /// <summary>
    /// The state's scenarios and deletions once <paramref name="after"/> replaces <paramref name="before"/> at revision
    /// <paramref name="next"/>: the records the change stores carry that revision, those it keeps (the same records) their
    /// own; the names it deletes keep it, and those it stores again lose their deletion.
    /// </summary>
    public static (Dictionary<string, Scenario> Scenarios, Dictionary<string, long> DeletedAt, long DeletionsForgottenUpTo) After(
        IReadOnlyDictionary<string, Scenario> before, IReadOnlyDictionary<string, Scenario> after, IReadOnlyDictionary<string, long> deletedAt,
        long deletionsForgottenUpTo, long next)
    {
        var stamped = after.ToDictionary(s => s.Key, s => before.TryGetValue(s.Key, out var kept) && ReferenceEquals(kept, s.Value) ? kept : s.Value with { Revision = next },
            StringComparer.Ordinal);
        var deletions = new Dictionary<string, long>(deletedAt, StringComparer.Ordinal);
        foreach (var name in before.Keys.Where(name => !after.ContainsKey(name))) deletions[name] = next;
        foreach (var name in after.Keys) deletions.Remove(name);
        var forgotten = deletionsForgottenUpTo;
        if (deletions.Count > MaxDeletionsKept)
            foreach (var (name, at) in deletions.OrderBy(d => d.Value).ThenBy(d => d.Key, StringComparer.Ordinal).Take(deletions.Count - MaxDeletionsKept).ToArray())
            {
                forgotten = Math.Max(forgotten, at);
                deletions.Remove(name);
            }
        return (stamped, deletions, forgotten);
    }
}

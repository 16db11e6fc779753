using Microsoft.Extensions.Logging;
using Orleans.Utilities;
using Recommender.Abstractions;

namespace Recommender.Grains.Scenarios;

[GenerateSerializer, Alias("recommender.scenarios-state")]
public sealed class ScenariosState
{
    [Id(0)] public Dictionary<string, Scenario> Scenarios { get; set; } = new(StringComparer.Ordinal);
    [Id(1)] public long Revision { get; set; }

    /// <summary>The recent changes, oldest first (<see cref="ScenarioLog"/>).</summary>
    [Id(2)] public List<ScenarioUndo> Log { get; set; } = [];

    /// <summary>The revision that deleted each of the last deleted scenarios (at most <see cref="ScenarioRevisions.MaxDeletionsKept"/>).</summary>
    [Id(3)] public Dictionary<string, long> DeletedAt { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The latest revision of a deletion no longer in <see cref="DeletedAt"/>: any name absent from both may have been deleted then.</summary>
    [Id(4)] public long DeletionsForgottenUpTo { get; set; }

    /// <summary>Whether the state was written by a release that keeps the revisions above (one before it leaves this false).</summary>
    [Id(5)] public bool KeepsRevisions { get; set; }
}

/// <summary>
/// The cluster's scenarios, stored whole on each change (a few hundred small records at most) with the log of recent
/// changes. Reads interleave with a change being stored and get the set as stored before it, so that no list is read
/// under rules storage may not keep.
/// </summary>
public sealed class ScenariosGrain([PersistentState("scenarios")] IPersistentState<ScenariosState> state, TimeProvider time,
    ILogger<ScenariosGrain> logger) : Grain, IScenariosGrain
{
    // The set and the log as last stored; a change replaces state's dictionary and list rather than altering them.
    private Stored? _stored;

    private sealed record Stored(ScenarioSet Set, List<ScenarioUndo> Log);

    private Stored Current => _stored ??= Snapshot();

    /// <summary>How long a front end's watch lasts unless it is renewed.</summary>
    public static readonly TimeSpan WatchPeriod = TimeSpan.FromMinutes(2);

    // The front ends watching for changes (Watch), each until its watch lapses.
    private readonly ObserverManager<IScenarioObserver> _watchers = new(WatchPeriod, logger);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        ScenarioRevisions.Upgrade(state.State);
        return Task.CompletedTask;
    }

    private long LastChange(string name) => ScenarioRevisions.LastChange(state.State, name);

    private bool Holds(ScenarioPrecondition precondition, string name) =>
        precondition.HeldSince(LastChange(name), state.State.Revision, state.State.Scenarios.ContainsKey(name));

    public Task<ScenarioSet> GetAll() => Task.FromResult(Current.Set);

    public Task<ScenarioSet> Watch(IScenarioObserver observer)
    {
        _watchers.Subscribe(observer, observer);
        return Task.FromResult(Current.Set);
    }

    /// <summary>Tells the watching front ends the set as it now is (one-way: a front end gone is no wait).</summary>
    private void Announce()
    {
        var set = Current.Set;
        _watchers.Notify(w => w.Changed(set));
    }

    public Task<ScenarioHistory> History(int limit, string? scenario) => Task.FromResult(ScenarioLog.Describe(Current.Set, Current.Log, limit, scenario));

    public Task<ScenarioSet?> At(long revision) =>
        Task.FromResult(ScenarioLog.At(Current.Set, Current.Log, revision) is { } then ? new ScenarioSet(revision, then) : null);

    public async Task<ScenarioWritten> Put(string name, Scenario scenario, ScenarioPrecondition precondition, ScenarioAuthor author)
    {
        var met = Current.Set;
        var scenarios = state.State.Scenarios;
        var exists = scenarios.ContainsKey(name);
        if (!Holds(precondition, name)) return new(met, false, ScenarioRefusal.PreconditionFailed);
        if (!exists && scenarios.Count >= Limits.MaxScenarios) return new(met, false, ScenarioRefusal.TooMany);
        await Commit(new Dictionary<string, Scenario>(scenarios, StringComparer.Ordinal) { [name] = scenario }, author);
        return new(Current.Set, true);
    }

    public async Task<ScenarioWritten> Delete(string name, ScenarioPrecondition precondition, ScenarioAuthor author)
    {
        var met = Current.Set;
        if (!Holds(precondition, name)) return new(met, false, ScenarioRefusal.PreconditionFailed);
        if (!state.State.Scenarios.ContainsKey(name)) return new(met, false);
        var after = new Dictionary<string, Scenario>(state.State.Scenarios, StringComparer.Ordinal);
        after.Remove(name);
        await Commit(after, author);
        return new(Current.Set, true);
    }

    public Task<ScenariosApplied> Apply(Dictionary<string, Scenario?> changes, bool replaceAll, bool dryRun, ScenarioPrecondition precondition, ScenarioAuthor author)
    {
        // A change of the whole set asks that the set be as it was; one of some scenarios, that those be.
        var changed = replaceAll ? state.State.Revision : changes.Keys.Select(LastChange).DefaultIfEmpty(0).Max();
        return !precondition.HeldSince(changed, state.State.Revision, exists: true)
            ? Task.FromResult(Refused(ScenarioRefusal.PreconditionFailed))
            : Change(changes, replaceAll, dryRun, author);
    }

    public Task<ScenariosApplied> Restore(long revision, bool dryRun, ScenarioPrecondition precondition, ScenarioAuthor author)
    {
        if (!precondition.HeldBy(state.State.Revision, exists: true)) return Task.FromResult(Refused(ScenarioRefusal.PreconditionFailed));
        if (ScenarioLog.At(Current.Set, Current.Log, revision) is not { } then) return Task.FromResult(Refused(ScenarioRefusal.NotInHistory));
        var now = time.GetUtcNow();
        return Change(then.ToDictionary(s => s.Key, s => (Scenario?)(s.Value with { UpdatedAt = now }), StringComparer.Ordinal), replaceAll: true, dryRun, author);
    }

    public async Task<ScenarioSet?> Put(string name, Scenario scenario) =>
        await Put(name, scenario, ScenarioPrecondition.None, ScenarioAuthor.Unknown) is { Refusal: null } written ? written.Set : null;

    public async Task<bool> Delete(string name) => (await Delete(name, ScenarioPrecondition.None, ScenarioAuthor.Unknown)).Changed;

    public async Task<ScenariosApplied?> Apply(Dictionary<string, Scenario?> changes, bool replaceAll, bool dryRun) =>
        await Change(changes, replaceAll, dryRun, ScenarioAuthor.Unknown) is { Refusal: null } applied ? applied : null;

    private ScenariosApplied Refused(ScenarioRefusal refusal) => new(Current.Set, [], [], [], Current.Set, refusal);

    private async Task<ScenariosApplied> Change(Dictionary<string, Scenario?> changes, bool replaceAll, bool dryRun, ScenarioAuthor author)
    {
        var met = Current.Set;
        var before = state.State.Scenarios;
        var after = new Dictionary<string, Scenario>(replaceAll ? [] : before, StringComparer.Ordinal);
        List<string> put = [], unchanged = [], deleted = [];
        foreach (var (name, scenario) in changes.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            if (scenario is null)
            {
                if (after.Remove(name)) deleted.Add(name);
            }
            else if (before.TryGetValue(name, out var stored) && stored.SameRules(scenario))
            {
                after[name] = stored;
                unchanged.Add(name);
            }
            else
            {
                after[name] = scenario;
                put.Add(name);
            }
        }
        if (replaceAll) deleted.AddRange(before.Keys.Where(name => !after.ContainsKey(name)).Order(StringComparer.Ordinal));
        if (after.Count > Limits.MaxScenarios) return Refused(ScenarioRefusal.TooMany);
        if (!dryRun && put.Count + deleted.Count > 0) await Commit(after, author);
        return new ScenariosApplied(Current.Set, [.. put], [.. unchanged], [.. deleted], met, Result: dryRun ? after : Current.Set.Scenarios);
    }

    /// <summary>
    /// Stores <paramref name="after"/> as the next revision, with its entry (by <paramref name="author"/>) in the log. A write reported failed may
    /// still have been stored, so memory takes what storage holds then, or, when that cannot be read either, is put
    /// back; the caller is told it failed either way.
    /// </summary>
    private async Task Commit(Dictionary<string, Scenario> after, ScenarioAuthor author)
    {
        var (before, log, revision) = (state.State.Scenarios, state.State.Log, state.State.Revision);
        var (deletedAt, forgotten) = (state.State.DeletedAt, state.State.DeletionsForgottenUpTo);
        var next = revision + 1;
        var (stamped, deletions, forgottenAfter) = ScenarioRevisions.After(before, after, deletedAt, forgotten, next);
        state.State.Log = ScenarioLog.Add(log, next, time.GetUtcNow(), author, before, stamped);
        state.State.Scenarios = stamped;
        state.State.Revision = next;
        (state.State.DeletedAt, state.State.DeletionsForgottenUpTo) = (deletions, forgottenAfter);
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            try
            {
                await state.ReadStateAsync();
                ScenarioRevisions.Upgrade(state.State);
            }
            catch
            {
                (state.State.Scenarios, state.State.Log, state.State.Revision) = (before, log, revision);
                (state.State.DeletedAt, state.State.DeletionsForgottenUpTo) = (deletedAt, forgotten);
            }
            _stored = Snapshot();
            Announce();
            throw;
        }
        _stored = Snapshot();
        Announce();
    }

    private Stored Snapshot() =>
        new(new ScenarioSet(state.State.Revision, new Dictionary<string, Scenario>(state.State.Scenarios, StringComparer.Ordinal)), state.State.Log);
}

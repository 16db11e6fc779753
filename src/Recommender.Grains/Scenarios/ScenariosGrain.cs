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
        if (!precondition.HeldBy(state.State.Revision, exists)) return new(met, false, ScenarioRefusal.PreconditionFailed);
        if (!exists && scenarios.Count >= Limits.MaxScenarios) return new(met, false, ScenarioRefusal.TooMany);
        await Commit(new Dictionary<string, Scenario>(scenarios, StringComparer.Ordinal) { [name] = scenario }, author);
        return new(Current.Set, true);
    }

    public async Task<ScenarioWritten> Delete(string name, ScenarioPrecondition precondition, ScenarioAuthor author)
    {
        var met = Current.Set;
        if (!precondition.HeldBy(state.State.Revision, state.State.Scenarios.ContainsKey(name))) return new(met, false, ScenarioRefusal.PreconditionFailed);
        if (!state.State.Scenarios.ContainsKey(name)) return new(met, false);
        var after = new Dictionary<string, Scenario>(state.State.Scenarios, StringComparer.Ordinal);
        after.Remove(name);
        await Commit(after, author);
        return new(Current.Set, true);
    }

    public Task<ScenariosApplied> Apply(Dictionary<string, Scenario?> changes, bool replaceAll, bool dryRun, ScenarioPrecondition precondition, ScenarioAuthor author) =>
        !precondition.HeldBy(state.State.Revision, exists: true) ? Task.FromResult(Refused(ScenarioRefusal.PreconditionFailed)) : Change(changes, replaceAll, dryRun, author);

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
        return new ScenariosApplied(Current.Set, [.. put], [.. unchanged], [.. deleted], met, Result: after);
    }

    /// <summary>
    /// Stores <paramref name="after"/> as the next revision, with its entry (by <paramref name="author"/>) in the log. A write reported failed may
    /// still have been stored, so memory takes what storage holds then, or, when that cannot be read either, is put
    /// back; the caller is told it failed either way.
    /// </summary>
    private async Task Commit(Dictionary<string, Scenario> after, ScenarioAuthor author)
    {
        var (before, log, revision) = (state.State.Scenarios, state.State.Log, state.State.Revision);
        state.State.Log = ScenarioLog.Add(log, revision + 1, time.GetUtcNow(), author, before, after);
        state.State.Scenarios = after;
        state.State.Revision = revision + 1;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            try
            {
                await state.ReadStateAsync();
            }
            catch
            {
                (state.State.Scenarios, state.State.Log, state.State.Revision) = (before, log, revision);
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

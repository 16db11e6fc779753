using Recommender.Abstractions;

namespace Recommender.Grains.Scenarios;

[GenerateSerializer, Alias("recommender.scenarios-state")]
public sealed class ScenariosState
{
    [Id(0)] public Dictionary<string, Scenario> Scenarios { get; set; } = new(StringComparer.Ordinal);
    [Id(1)] public long Revision { get; set; }
}

/// <summary>
/// The cluster's scenarios, stored whole on each change (a few hundred small records at most). Reads interleave with a
/// change being stored and get the set as stored before it, so that no list is read under rules storage may not keep.
/// </summary>
public sealed class ScenariosGrain([PersistentState("scenarios")] IPersistentState<ScenariosState> state) : Grain, IScenariosGrain
{
    private ScenarioSet? _stored;

    public Task<ScenarioSet> GetAll() => Task.FromResult(_stored ??= Snapshot());

    public async Task<ScenarioWritten> Put(string name, Scenario scenario, ScenarioPrecondition precondition)
    {
        var met = _stored ??= Snapshot();
        var scenarios = state.State.Scenarios;
        var previous = scenarios.GetValueOrDefault(name);
        if (!precondition.HeldBy(state.State.Revision, previous is not null)) return new(met, false, ScenarioRefusal.PreconditionFailed);
        if (previous is null && scenarios.Count >= Limits.MaxScenarios) return new(met, false, ScenarioRefusal.TooMany);
        scenarios[name] = scenario;
        await Write(() =>
        {
            if (previous is null) scenarios.Remove(name);
            else scenarios[name] = previous;
        });
        return new(_stored, true);
    }

    public async Task<ScenarioWritten> Delete(string name, ScenarioPrecondition precondition)
    {
        var met = _stored ??= Snapshot();
        if (!precondition.HeldBy(state.State.Revision, state.State.Scenarios.ContainsKey(name))) return new(met, false, ScenarioRefusal.PreconditionFailed);
        if (!state.State.Scenarios.Remove(name, out var removed)) return new(met, false);
        await Write(() => state.State.Scenarios[name] = removed);
        return new(_stored, true);
    }

    public async Task<ScenariosApplied> Apply(Dictionary<string, Scenario?> changes, bool replaceAll, bool dryRun, ScenarioPrecondition precondition)
    {
        var met = _stored ??= Snapshot();
        if (!precondition.HeldBy(state.State.Revision, exists: true)) return new(met, [], [], [], met, ScenarioRefusal.PreconditionFailed);
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
        if (after.Count > Limits.MaxScenarios) return new(met, [], [], [], met, ScenarioRefusal.TooMany);
        if (!dryRun && put.Count + deleted.Count > 0)
        {
            state.State.Scenarios = after;
            await Write(() => state.State.Scenarios = before);
        }
        return new ScenariosApplied(_stored, [.. put], [.. unchanged], [.. deleted], met);
    }

    /// <summary>
    /// Stores the change under a new revision. A write reported failed may still have been stored, so memory takes what
    /// storage holds then, or, when that cannot be read either, is undone; the caller is told it failed either way.
    /// </summary>
    private async Task Write(Action undo)
    {
        state.State.Revision++;
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
                undo();
                state.State.Revision--;
            }
            _stored = Snapshot();
            throw;
        }
        _stored = Snapshot();
    }

    private ScenarioSet Snapshot() =>
        new(state.State.Revision, new Dictionary<string, Scenario>(state.State.Scenarios, StringComparer.Ordinal));
}

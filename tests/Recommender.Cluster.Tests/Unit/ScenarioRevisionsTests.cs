using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Recommender.Abstractions;
using Recommender.Grains.Scenarios;

namespace Recommender.Cluster.Tests.Unit;

/// <summary>When each scenario last changed: the revision a record was stored at, and the one a name was deleted at.</summary>
public sealed class ScenarioRevisionsTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    private static Scenario Rules(int k, long revision = 0) => new(null, null, null, null, null, Start, K: k, Revision: revision);

    [Fact]
    public void A_change_stamps_what_it_stores_keeps_what_it_keeps_and_remembers_what_it_deletes()
    {
        var kept = Rules(1, revision: 3);
        var before = new Dictionary<string, Scenario> { ["kept"] = kept, ["changed"] = Rules(2, 4), ["deleted"] = Rules(3, 5) };
        var after = new Dictionary<string, Scenario> { ["kept"] = kept, ["changed"] = Rules(7), ["new"] = Rules(8), ["back"] = Rules(9) };
        var (scenarios, deletedAt, forgotten) = ScenarioRevisions.After(before, after, new Dictionary<string, long> { ["back"] = 2, ["older"] = 1 }, 0, next: 6);
        Assert.Same(kept, scenarios["kept"]);
        Assert.Equal([("back", 6L), ("changed", 6L), ("kept", 3L), ("new", 6L)], scenarios.OrderBy(s => s.Key).Select(s => (s.Key, s.Value.Revision)));
        Assert.Equal(7, scenarios["changed"].K);
        // The name deleted keeps the revision; one stored again loses its deletion; older deletions stay.
        Assert.Equal(new Dictionary<string, long> { ["deleted"] = 6, ["older"] = 1 }, deletedAt);
        Assert.Equal(0, forgotten);

        var state = new ScenariosState { Scenarios = scenarios, Revision = 6, DeletedAt = deletedAt, DeletionsForgottenUpTo = forgotten };
        Assert.Equal([3L, 6, 6, 1, 0], new[] { "kept", "changed", "deleted", "older", "never" }.Select(n => ScenarioRevisions.LastChange(state, n)));
    }

    [Fact]
    public void Past_the_bound_the_oldest_deletions_are_forgotten_and_any_unknown_name_counts_as_deleted_that_late()
    {
        var before = Enumerable.Range(0, ScenarioRevisions.MaxDeletionsKept + 5).ToDictionary(i => $"s{i}", i => Rules(1, 1));
        var deletedAt = new Dictionary<string, long> { ["early"] = 2 };
        var (_, first, forgotten) = ScenarioRevisions.After(before, new Dictionary<string, Scenario>(), deletedAt, 0, next: 3);
        Assert.Equal(ScenarioRevisions.MaxDeletionsKept, first.Count);
        Assert.DoesNotContain("early", first.Keys);
        Assert.Equal(3, forgotten);
        var state = new ScenariosState { Revision = 3, DeletedAt = first, DeletionsForgottenUpTo = forgotten };
        Assert.Equal(3, ScenarioRevisions.LastChange(state, "early"));
        Assert.Equal(3, ScenarioRevisions.LastChange(state, "never"));
    }

    [Fact]
    public void A_state_written_by_a_release_without_revisions_counts_every_scenario_as_changed_at_the_sets_revision()
    {
        var old = new ScenariosState { Scenarios = new(StringComparer.Ordinal) { ["home"] = Rules(1) }, Revision = 9 };
        ScenarioRevisions.Upgrade(old);
        Assert.True(old.KeepsRevisions);
        Assert.Equal(9, old.Scenarios["home"].Revision);
        // A name it deleted may have been deleted as late as that: a change conditional on an earlier revision is refused.
        Assert.Equal(9, ScenarioRevisions.LastChange(old, "deleted-then"));
        Assert.False(new ScenarioPrecondition([8]).HeldSince(ScenarioRevisions.LastChange(old, "home"), 9, exists: true));
        Assert.True(new ScenarioPrecondition([9]).HeldSince(ScenarioRevisions.LastChange(old, "home"), 9, exists: true));
        // A state that keeps them is left as it is.
        var current = new ScenariosState { Scenarios = new(StringComparer.Ordinal) { ["home"] = Rules(1, 4) }, Revision = 9, KeepsRevisions = true };
        var scenarios = current.Scenarios;
        ScenarioRevisions.Upgrade(current);
        Assert.Same(scenarios, current.Scenarios);
        Assert.Equal(0, ScenarioRevisions.LastChange(current, "never"));
    }

    [Fact]
    public void A_condition_holds_at_any_revision_named_from_the_last_change_to_now()
    {
        var precondition = new ScenarioPrecondition([5, 12]);
        Assert.True(precondition.HeldSince(changed: 4, revision: 7, exists: true));
        Assert.True(precondition.HeldSince(changed: 5, revision: 5, exists: true));
        Assert.False(precondition.HeldSince(changed: 6, revision: 7, exists: true));
        Assert.False(new ScenarioPrecondition([8]).HeldSince(changed: 4, revision: 7, exists: true));
        Assert.True(precondition.HeldSince(changed: 12, revision: 12, exists: false));
        Assert.False(new ScenarioPrecondition([5], Exists: true).HeldSince(changed: 4, revision: 7, exists: false));
        Assert.False(precondition.HeldBy(revision: 7, exists: true));
        Assert.True(precondition.HeldBy(revision: 12, exists: true));
    }

    [Fact]
    public void The_revisions_are_stored_with_the_scenarios()
    {
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        var state = new ScenariosState
        {
            Scenarios = new(StringComparer.Ordinal) { ["home"] = Rules(3, 7) }, Revision = 8, DeletedAt = new(StringComparer.Ordinal) { ["old"] = 8 }, DeletionsForgottenUpTo = 2,
            KeepsRevisions = true,
        };
        var stored = serializer.Deserialize<ScenariosState>(serializer.SerializeToArray(state))!;
        Assert.Equal(7, stored.Scenarios["home"].Revision);
        Assert.Equal(8, stored.DeletedAt["old"]);
        Assert.Equal(2, stored.DeletionsForgottenUpTo);
        Assert.True(stored.KeepsRevisions);
    }
}

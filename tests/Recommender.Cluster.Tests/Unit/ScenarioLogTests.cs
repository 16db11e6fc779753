using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Recommender.Abstractions;
using Recommender.Grains.Scenarios;

namespace Recommender.Cluster.Tests.Unit;

/// <summary>The scenarios' history: each change's earlier rules, walked back to show a change and to restore a revision.</summary>
public sealed class ScenarioLogTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);

    private static Scenario Rules(int k) => new(null, null, null, null, null, Start, K: k);

    /// <summary>Changes made one after another from an empty set, as the grain makes them: each a new dictionary, unchanged records shared.</summary>
    private static (ScenarioSet Set, List<ScenarioUndo> Log, List<Dictionary<string, Scenario>> Sets) Made(params Func<Dictionary<string, Scenario>, Dictionary<string, Scenario>>[] changes)
    {
        var set = new Dictionary<string, Scenario>(StringComparer.Ordinal);
        var log = new List<ScenarioUndo>();
        List<Dictionary<string, Scenario>> sets = [set];
        for (var i = 0; i < changes.Length; i++)
        {
            var after = changes[i](new Dictionary<string, Scenario>(set, StringComparer.Ordinal));
            log = ScenarioLog.Add(log, i + 1, Start.AddMinutes(i + 1), new ScenarioAuthor($"admin key {i % 2}", $"change {i + 1}"), set, after);
            sets.Add(set = after);
        }
        return (new ScenarioSet(changes.Length, set), log, sets);
    }

    private static Dictionary<string, Scenario> With(Dictionary<string, Scenario> set, string name, int k)
    {
        set[name] = Rules(k);
        return set;
    }

    private static Dictionary<string, Scenario> Without(Dictionary<string, Scenario> set, string name)
    {
        set.Remove(name);
        return set;
    }

    [Fact]
    public void Each_change_keeps_what_it_replaced_and_every_revision_it_reaches_is_restored_exactly()
    {
        var (current, log, sets) = Made(s => With(s, "home", 1), s => With(With(s, "cart", 2), "home", 3), s => Without(s, "home"), s => With(s, "cart", 4));
        Assert.Equal([1L, 2, 3, 4], log.Select(c => c.Revision));
        // Only what a change stored or deleted is kept, with its record before (null: new).
        Assert.Equal(["cart", "home"], log[1].Before.Keys.Order(StringComparer.Ordinal));
        Assert.Null(log[1].Before["cart"]);
        Assert.Same(sets[1]["home"], log[1].Before["home"]);
        Assert.Equal(["home"], log[2].Before.Keys);
        Assert.Equal(0, ScenarioLog.Oldest(current, log));
        for (var revision = 0; revision <= 4; revision++)
        {
            var then = ScenarioLog.At(current, log, revision)!;
            Assert.Equal(sets[revision].OrderBy(s => s.Key), then.OrderBy(s => s.Key));
        }
        Assert.Null(ScenarioLog.At(current, log, 5));
        Assert.Null(ScenarioLog.At(current, log, -1));

        // Described newest first, each scenario with its record before and after.
        var history = ScenarioLog.Describe(current, log, limit: 3);
        Assert.Equal((4L, 0L), (history.Revision, history.Oldest));
        Assert.Equal([4L, 3, 2], history.Changes.Select(c => c.Revision));
        Assert.Equal(Start.AddMinutes(4), history.Changes[0].At);
        Assert.Equal(new ScenarioAuthor("admin key 1", "change 4"), history.Changes[0].Author);
        Assert.Equal(new ScenarioAuthor("admin key 0", "change 3"), history.Changes[1].Author);
        Assert.Equal([("cart", 2, 4)], history.Changes[0].Edits.Select(e => (e.Name, e.Before!.K, e.After!.K)));
        Assert.Equal([("home", (int?)3, (int?)null)], history.Changes[1].Edits.Select(e => (e.Name, e.Before!.K, e.After?.K)));
        Assert.Equal([("cart", (int?)null, (int?)2), ("home", 1, 3)], history.Changes[2].Edits.Select(e => (e.Name, e.Before?.K, e.After!.K)));

        // One scenario's changes alone, each with its own edit only.
        var cart = ScenarioLog.Describe(current, log, limit: 10, scenario: "cart");
        Assert.Equal([4L, 2], cart.Changes.Select(c => c.Revision));
        Assert.All(cart.Changes, c => Assert.Equal(["cart"], c.Edits.Select(e => e.Name)));
        Assert.Equal([(2, 4)], cart.Changes.Take(1).Select(c => (c.Edits[0].Before!.K!.Value, c.Edits[0].After!.K!.Value)));
        Assert.Equal([3L], ScenarioLog.Describe(current, log, limit: 1, scenario: "home").Changes.Select(c => c.Revision));
        Assert.Empty(ScenarioLog.Describe(current, log, limit: 10, scenario: "none").Changes);

        // A scenario stored again counts as changed whatever its rules (another record replaced it); one kept as it was does not.
        var again = new Dictionary<string, Scenario>(current.Scenarios, StringComparer.Ordinal) { ["cart"] = Rules(4) with { Tags = ["sale"] } };
        Assert.Equal(["cart"], ScenarioLog.Add(log, 5, Start, ScenarioAuthor.Unknown, current.Scenarios, again)[^1].Before.Keys);
        Assert.Empty(ScenarioLog.Add(log, 5, Start, ScenarioAuthor.Unknown, current.Scenarios, new Dictionary<string, Scenario>(current.Scenarios, StringComparer.Ordinal))[^1].Before);
    }

    [Fact]
    public void The_oldest_changes_go_past_the_bounds_and_the_newest_always_stays()
    {
        var changes = Enumerable.Range(0, ScenarioLog.MaxChanges + 5).Select(i => (Func<Dictionary<string, Scenario>, Dictionary<string, Scenario>>)(s => With(s, "home", i))).ToArray();
        var (current, log, sets) = Made(changes);
        Assert.Equal(ScenarioLog.MaxChanges, log.Count);
        Assert.Equal(6, log[0].Revision);
        Assert.Equal(5, ScenarioLog.Oldest(current, log));
        Assert.Equal(sets[5]["home"], ScenarioLog.At(current, log, 5)!["home"]);
        Assert.Null(ScenarioLog.At(current, log, 4));

        // Past the records bound: a change of many scenarios pushes out older ones, but is itself kept whole.
        var many = Enumerable.Range(0, ScenarioLog.MaxRecords + 10).ToDictionary(i => $"s{i}", Rules, StringComparer.Ordinal);
        var kept = ScenarioLog.Add(log, current.Revision + 1, Start, ScenarioAuthor.Unknown, current.Scenarios, many);
        var newest = Assert.Single(kept);
        Assert.Equal(ScenarioLog.MaxRecords + 11, newest.Before.Count);
        var next = ScenarioLog.Add(kept, current.Revision + 2, Start, ScenarioAuthor.Unknown, many, new Dictionary<string, Scenario>(many) { ["s0"] = Rules(-1) });
        Assert.Equal([current.Revision + 2], next.Select(c => c.Revision));
    }

    [Fact]
    public void The_log_is_stored_with_the_scenarios()
    {
        var (current, log, _) = Made(s => With(s, "home", 1), s => Without(s, "home"));
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        var stored = serializer.Deserialize<ScenariosState>(serializer.SerializeToArray(new ScenariosState { Revision = 2, Log = log }))!;
        Assert.Equal([1L, 2], stored.Log.Select(c => c.Revision));
        Assert.Null(stored.Log[0].Before["home"]);
        Assert.Equal(1, stored.Log[1].Before["home"]!.K);
        Assert.Equal(Start.AddMinutes(2), stored.Log[1].At);
        Assert.Equal(new ScenarioAuthor("admin key 1", "change 2"), stored.Log[1].Author);
    }
}

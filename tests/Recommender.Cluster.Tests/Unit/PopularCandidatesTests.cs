using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Recommender.Abstractions;
using Recommender.Grains;
using Recommender.Grains.Popularity;

namespace Recommender.Cluster.Tests.Unit;

public sealed class PopularCandidatesTests
{
    private static PopularItem Item(string id, long count) => new(id, "Title " + id, count);

    private static readonly PopularItem[] Seeded = [Item("s1", 300), Item("s2", 120), Item("s3", 40), Item("s4", 2)];

    [Fact]
    public void Items_with_enough_recent_events_rank_above_the_seeded_list_in_live_order()
    {
        PopularItem[] live = [Item("hot", 9), Item("s3", 5), Item("warm", 3)];
        var merged = PopularCandidates.Merge(live, Seeded, minimumLiveCount: 3).ToArray();
        Assert.Equal(["hot", "s3", "warm", "s1", "s2", "s4"], merged.Select(p => p.ItemId));
        // Lifted above the largest seeded count, so scores follow the order; a seeded item appears once.
        Assert.Equal([309L, 305, 303, 300, 120, 2], merged.Select(p => p.Count));
    }

    [Fact]
    public void The_counts_of_a_few_items_are_those_the_merged_list_gives_them()
    {
        PopularItem[] live = [Item("hot", 7), Item("stray", 1), Item("s2", 2), Item("s3", 50)];
        foreach (var minimum in new long[] { 1, 3 })
        {
            var merged = PopularCandidates.Merge(live, Seeded, minimum).ToDictionary(p => p.ItemId, p => p.Count);
            var asked = new HashSet<string> { "hot", "stray", "s2", "s3", "s4", "nowhere" };
            var counts = PopularCandidates.CountsOf(live, Seeded, minimum, asked);
            Assert.Equal(merged.Where(m => asked.Contains(m.Key)).OrderBy(m => m.Key), counts.OrderBy(c => c.Key));
        }
        Assert.Empty(PopularCandidates.CountsOf(live, [], 1, new HashSet<string>()));
    }

    [Fact]
    public void A_stray_event_does_not_put_an_item_above_the_seeded_list()
    {
        PopularItem[] live = [Item("hot", 7), Item("stray", 1), Item("s2", 2)];
        var merged = PopularCandidates.Merge(live, Seeded, minimumLiveCount: 3).ToArray();
        // "stray" competes on its count of 1 (last, after the seeded item with 2); s2 keeps its seeded count.
        Assert.Equal(["hot", "s1", "s2", "s3", "s4", "stray"], merged.Select(p => p.ItemId));
        Assert.Equal(120, merged.Single(p => p.ItemId == "s2").Count);
        // With a threshold of 1 every live item is lifted, as before the setting existed.
        Assert.Equal(["hot", "s2", "stray", "s1", "s3", "s4"], PopularCandidates.Merge(live, Seeded, 1).Select(p => p.ItemId));
    }

    [Fact]
    public void Without_a_seeded_list_the_live_counts_alone_decide_and_ties_keep_the_live_order()
    {
        PopularItem[] live = [Item("a", 4), Item("b", 2), Item("c", 2), Item("d", 1)];
        Assert.Equal(["a", "b", "c", "d"], PopularCandidates.Merge(live, [], 3).Select(p => p.ItemId));
        Assert.Equal(["s1", "s2", "s3", "s4"], PopularCandidates.Merge([], Seeded, 3).Select(p => p.ItemId));
        Assert.Throws<ArgumentOutOfRangeException>(() => PopularCandidates.Merge(live, Seeded, 0).ToArray());
    }

    [Fact]
    public void Dismissals_add_nothing_to_an_item_s_recent_count()
    {
        var now = new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);
        var accumulator = new PopularityAccumulator(Options.Create(new ServingOptions()), new FakeTimeProvider(now));
        accumulator.Record(
        [
            new UserEvent("liked", EventType.View, now, "e1"),
            new UserEvent("liked", EventType.Purchase, now, "e2"),
            new UserEvent("turned-down", EventType.Dismiss, now, "e3"),
            new UserEvent("liked", EventType.Dismiss, now, "e4"),
        ]);
        var drained = accumulator.Drain();
        Assert.Equal(["liked"], drained.Keys);
        Assert.Equal(2.0, drained["liked"], 6);
    }
}

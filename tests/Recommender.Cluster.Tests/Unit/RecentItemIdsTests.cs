using Recommender.Grains.Catalogue;

namespace Recommender.Cluster.Tests.Unit;

public sealed class RecentItemIdsTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void An_item_counts_as_recent_for_the_window_from_the_latest_time_it_was_named()
    {
        var deletions = new RecentItemIds(TimeSpan.FromMinutes(10));
        deletions.Add(["a", "b"], Start);
        Assert.True(deletions.Contains("a", Start.AddMinutes(9.9)));
        Assert.False(deletions.Contains("a", Start.AddMinutes(10)));
        Assert.False(deletions.Contains("c", Start));

        // Deleted again: the window starts over.
        deletions.Add(["a"], Start.AddMinutes(5));
        Assert.True(deletions.Contains("a", Start.AddMinutes(14)));
        Assert.False(deletions.Contains("b", Start.AddMinutes(14)));
    }

    [Fact]
    public void Ids_past_the_window_are_dropped_by_a_later_deletion_so_memory_stays_bounded()
    {
        var deletions = new RecentItemIds(TimeSpan.FromMinutes(10));
        deletions.Add(Enumerable.Range(0, 1000).Select(i => $"old-{i}"), Start);
        deletions.Add(["mid"], Start.AddMinutes(6));
        Assert.Equal(1001, deletions.Count);
        // The next deletion after the window sweeps the expired ids and keeps the recent one.
        deletions.Add(["new"], Start.AddMinutes(11));
        Assert.Equal(2, deletions.Count);
        Assert.True(deletions.Contains("mid", Start.AddMinutes(11)));
        Assert.True(deletions.Contains("new", Start.AddMinutes(11)));
    }
}

using Recommender.Grains.Catalogue;

namespace Recommender.Cluster.Tests.Unit;

public sealed class ItemExpiriesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private static KeyValuePair<string, DateTimeOffset?> At(string id, DateTimeOffset? at) => KeyValuePair.Create(id, at);

    [Fact]
    public void An_expiry_already_passed_counts_at_once_and_a_later_one_when_its_time_comes()
    {
        var expiries = new ItemExpiries();
        Assert.True(expiries.Apply([At("past", Now.AddDays(-1)), At("soon", Now.AddMinutes(5)), At("later", Now.AddHours(2))], Now));
        Assert.Equal(["past"], expiries.Expired);
        Assert.Equal(Now.AddMinutes(5), expiries.Next);

        Assert.False(expiries.Advance(Now.AddMinutes(4)));
        Assert.True(expiries.Advance(Now.AddMinutes(5)));
        Assert.Equal(["past", "soon"], expiries.Expired.Order());
        Assert.Equal(Now.AddHours(2), expiries.Next);
        Assert.True(expiries.Advance(Now.AddDays(1)));
        Assert.Equal(3, expiries.Expired.Count);
        Assert.Null(expiries.Next);
        Assert.False(expiries.Advance(Now.AddDays(2)));
    }

    [Fact]
    public void A_new_expiry_replaces_the_old_one_and_none_clears_it()
    {
        var expiries = new ItemExpiries();
        expiries.Apply([At("story", Now.AddMinutes(5)), At("offer", Now.AddMinutes(-5))], Now);

        // Moved later: the earlier time no longer expires it.
        Assert.False(expiries.Apply([At("story", Now.AddHours(1))], Now));
        Assert.False(expiries.Advance(Now.AddMinutes(10)));
        Assert.DoesNotContain("story", expiries.Expired);
        Assert.Equal(Now.AddHours(1), expiries.Next);

        // An expired item given a later time, or none, is shown again.
        Assert.True(expiries.Apply([At("offer", Now.AddDays(1))], Now));
        Assert.Empty(expiries.Expired);
        Assert.True(expiries.Apply([At("story", Now.AddMinutes(-1))], Now));
        Assert.True(expiries.Apply([At("story", null)], Now));
        Assert.Empty(expiries.Expired);
        Assert.Null(expiries.Of("story"));
        Assert.Equal(1, expiries.Count);
        Assert.Equal(Now.AddDays(1), expiries.Next);
    }

    [Fact]
    public void Changes_name_only_what_differs_the_last_of_an_item_given_twice_counting()
    {
        var expiries = new ItemExpiries();
        expiries.Apply([At("a", Now.AddHours(1)), At("b", Now.AddHours(2))], Now);
        var changes = expiries.Changes([("a", Now.AddHours(1)), ("b", null), ("c", null), ("d", Now), ("d", Now.AddHours(3))]);
        Assert.Equal([At("b", null), At("d", Now.AddHours(3))], changes.OrderBy(c => c.Key));
        Assert.Empty(expiries.Changes([("a", Now.AddHours(1)), ("e", null)]));
    }

    [Fact]
    public void Rewriting_expiries_many_times_keeps_the_pending_queue_bounded_and_right()
    {
        var expiries = new ItemExpiries();
        // A sliding expiry pushed later on every write: stale entries are dropped when they outnumber the live ones.
        for (var i = 1; i <= 5_000; i++) expiries.Apply([At("live", Now.AddSeconds(i)), At($"once-{i % 10}", Now.AddDays(1))], Now);
        Assert.InRange(expiries.PendingCount, 11, 2 * expiries.Count + 1024);
        Assert.Equal(Now.AddSeconds(5_000), expiries.Next);
        Assert.False(expiries.Advance(Now.AddSeconds(4_999)));
        Assert.True(expiries.Advance(Now.AddSeconds(5_000)));
        Assert.Equal(["live"], expiries.Expired);
        Assert.Equal(Now.AddDays(1), expiries.Next);
    }
}

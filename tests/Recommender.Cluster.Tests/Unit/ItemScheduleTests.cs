using Recommender.Grains.Catalogue;

namespace Recommender.Cluster.Tests.Unit;

public sealed class ItemScheduleTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private static KeyValuePair<string, AvailabilityWindow?> Window(string id, DateTimeOffset? from, DateTimeOffset? until) =>
        KeyValuePair.Create(id, (AvailabilityWindow?)new AvailabilityWindow(from, until));

    private static KeyValuePair<string, AvailabilityWindow?> None(string id) => KeyValuePair.Create(id, (AvailabilityWindow?)null);

    [Fact]
    public void An_expiry_already_passed_closes_at_once_and_a_later_one_when_its_time_comes()
    {
        var schedule = new ItemSchedule();
        Assert.True(schedule.Apply([Window("past", null, Now.AddDays(-1)), Window("soon", null, Now.AddMinutes(5)), Window("later", null, Now.AddHours(2))], Now));
        Assert.Equal(["past"], schedule.Closed);
        Assert.Equal(Now.AddMinutes(5), schedule.Next);

        Assert.False(schedule.Advance(Now.AddMinutes(4)));
        Assert.True(schedule.Advance(Now.AddMinutes(5)));
        Assert.Equal(["past", "soon"], schedule.Closed.Order());
        Assert.Equal(Now.AddHours(2), schedule.Next);
        Assert.True(schedule.Advance(Now.AddDays(1)));
        Assert.Equal(3, schedule.Closed.Count);
        Assert.Null(schedule.Next);
        Assert.False(schedule.Advance(Now.AddDays(2)));
        Assert.Equal(["later", "past", "soon"], schedule.Ended(Now.AddDays(2)).Order());
    }

    [Fact]
    public void A_window_not_open_yet_is_closed_until_it_opens_and_then_until_it_ends_and_only_its_end_is_for_good()
    {
        var schedule = new ItemSchedule();
        Assert.True(schedule.Apply([Window("release", Now.AddHours(1), Now.AddHours(3)), Window("launch", Now.AddHours(2), null)], Now));
        Assert.Equal(["launch", "release"], schedule.Closed.Order());
        Assert.False(schedule.HasEnded("release", Now));
        Assert.Empty(schedule.Ended(Now));

        Assert.True(schedule.Advance(Now.AddHours(1)));
        Assert.Equal(["launch"], schedule.Closed);
        Assert.True(schedule.Advance(Now.AddHours(2)));
        Assert.Empty(schedule.Closed);
        Assert.Equal(Now.AddHours(3), schedule.Next);
        Assert.True(schedule.Advance(Now.AddHours(3)));
        Assert.Equal(["release"], schedule.Closed);
        Assert.True(schedule.HasEnded("release", Now.AddHours(3)));
        Assert.False(schedule.HasEnded("launch", Now.AddYears(1)));
        Assert.Null(schedule.Next);
    }

    [Fact]
    public void The_closed_items_a_list_could_hold_leave_out_only_the_expired_ones_without_a_row()
    {
        var schedule = new ItemSchedule();
        schedule.Apply([
            Window("expired-with-row", null, Now.AddDays(-1)), Window("expired-without-row", null, Now.AddDays(-1)),
            Window("early-with-row", Now.AddDays(1), null), Window("early-without-row", Now.AddDays(1), null), Window("open", null, Now.AddDays(1))], Now);
        var withRows = new HashSet<string> { "expired-with-row", "early-with-row", "open" };
        Assert.Equal(["early-with-row", "early-without-row", "expired-with-row"], schedule.ClosedWithRows(withRows.Contains, Now).Order());
        Assert.Equal(4, schedule.Closed.Count);
    }

    [Fact]
    public void A_new_window_replaces_the_old_one_and_none_clears_it()
    {
        var schedule = new ItemSchedule();
        schedule.Apply([Window("story", null, Now.AddMinutes(5)), Window("offer", null, Now.AddMinutes(-5))], Now);

        // Moved later: the earlier time no longer closes it.
        Assert.False(schedule.Apply([Window("story", null, Now.AddHours(1))], Now));
        Assert.False(schedule.Advance(Now.AddMinutes(10)));
        Assert.DoesNotContain("story", schedule.Closed);
        Assert.Equal(Now.AddHours(1), schedule.Next);

        // A closed item given a later end, or none, opens again; a window with neither end is none.
        Assert.True(schedule.Apply([Window("offer", null, Now.AddDays(1))], Now));
        Assert.Empty(schedule.Closed);
        Assert.True(schedule.Apply([Window("story", null, Now.AddMinutes(-1))], Now));
        Assert.True(schedule.Apply([Window("story", null, null)], Now));
        Assert.Empty(schedule.Closed);
        Assert.Null(schedule.Of("story"));
        Assert.True(schedule.Apply([Window("offer", Now.AddDays(2), null)], Now));
        Assert.True(schedule.Apply([None("offer")], Now));
        Assert.Equal(0, schedule.Count);
        Assert.Null(schedule.Next);
    }

    [Fact]
    public void Changes_name_only_what_differs_the_last_of_an_item_given_twice_counting()
    {
        var schedule = new ItemSchedule();
        schedule.Apply([Window("a", null, Now.AddHours(1)), Window("b", Now.AddHours(2), null)], Now);
        var changes = schedule.Changes([
            ("a", new AvailabilityWindow(null, Now.AddHours(1))), ("b", null), ("c", new AvailabilityWindow(null, null)),
            ("d", new AvailabilityWindow(Now, null)), ("d", new AvailabilityWindow(null, Now.AddHours(3)))]);
        Assert.Equal([None("b"), Window("d", null, Now.AddHours(3))], changes.OrderBy(c => c.Key));
        Assert.Empty(schedule.Changes([("a", new AvailabilityWindow(null, Now.AddHours(1))), ("e", null)]));
    }

    [Fact]
    public void Rewriting_windows_many_times_keeps_the_pending_queue_bounded_and_right()
    {
        var schedule = new ItemSchedule();
        // A sliding expiry pushed later on every write: stale entries are dropped when they outnumber the live ones.
        for (var i = 1; i <= 5_000; i++) schedule.Apply([Window("live", null, Now.AddSeconds(i)), Window($"once-{i % 10}", null, Now.AddDays(1))], Now);
        Assert.InRange(schedule.PendingCount, 11, 2 * schedule.Count + 1024);
        Assert.Equal(Now.AddSeconds(5_000), schedule.Next);
        Assert.False(schedule.Advance(Now.AddSeconds(4_999)));
        Assert.True(schedule.Advance(Now.AddSeconds(5_000)));
        Assert.Equal(["live"], schedule.Closed);
        Assert.Equal(Now.AddDays(1), schedule.Next);
    }
}

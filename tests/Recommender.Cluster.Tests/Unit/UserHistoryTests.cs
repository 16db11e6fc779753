using Recommender.Abstractions;
using Recommender.Grains.Users;

namespace Recommender.Cluster.Tests.Unit;

public sealed class UserHistoryTests
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private static UserEvent At(int minutes, string item, string? id = null) =>
        new(item, EventType.View, T0.AddMinutes(minutes), id ?? $"e-{item}-{minutes}");

    [Fact]
    public void Out_of_order_events_are_kept_in_timestamp_order()
    {
        var history = new UserHistory(new UserState(), retention: 100);
        history.Add([At(5, "c"), At(1, "a")]);
        history.Add([At(3, "b"), At(9, "e")]);
        history.Add([At(7, "d")]);
        Assert.Equal(["a", "b", "c", "d", "e"], history.Events.Select(e => e.ItemId));
        Assert.Equal(5, history.TotalCount);
    }

    [Fact]
    public void Events_taken_back_leave_the_history_and_stay_repeats_among_the_latest_retracted_ids()
    {
        var state = new UserState();
        var history = new UserHistory(state, retention: 2 * UserHistory.MaxRetracted);
        history.Add([At(1, "a", "a1"), At(2, "b", "b1"), At(3, "a", "a2") with { Type = EventType.Cart }]);
        var version = history.Version;
        Assert.Single(history.Remove(new EventRemoval(ItemId: "a", Type: EventType.Cart)));
        Assert.Equal("a1", Assert.Single(history.Remove(new EventRemoval(ItemId: "a"))).EventId);
        Assert.Empty(history.Remove(new EventRemoval(EventId: "a1")));
        Assert.Equal((1L, version + 2), (history.TotalCount, history.Version));
        Assert.Equal(["b"], history.Events.Select(e => e.ItemId));
        // The ids taken back are repeats, in this history and in one read back from the state.
        Assert.Equal(new IngestResult(0, 2), history.Add([At(1, "a", "a1"), At(3, "a", "a2")]));
        Assert.Equal(new IngestResult(0, 1), new UserHistory(state, retention: 100).Add([At(1, "a", "a1")]));

        // Only the latest ids are remembered: the oldest of more than the limit can be sent again.
        for (var i = 0; i < UserHistory.MaxRetracted; i++) history.Add([At(10 + i, "c", $"c{i}")]);
        Assert.Equal(UserHistory.MaxRetracted, history.Remove(new EventRemoval(ItemId: "c")).Count);
        Assert.Equal(UserHistory.MaxRetracted, state.RetractedEventIds.Count);
        Assert.Equal(new IngestResult(1, 1), history.Add([At(1, "a", "a1"), At(10, "c", "c0")]));
    }

    [Fact]
    public void Equal_timestamps_keep_arrival_order_across_batches()
    {
        var history = new UserHistory(new UserState(), retention: 100);
        history.Add([At(1, "x"), At(1, "y")]);
        history.Add([At(1, "z"), At(0, "first")]);
        Assert.Equal(["first", "x", "y", "z"], history.Events.Select(e => e.ItemId));
    }

    [Fact]
    public void Repeated_event_ids_are_duplicates_within_and_across_batches()
    {
        var history = new UserHistory(new UserState(), retention: 100);
        Assert.Equal(new IngestResult(2, 1), history.Add([At(1, "a", "id1"), At(2, "b", "id2"), At(3, "c", "id1")]));
        var version = history.Version;
        Assert.Equal(new IngestResult(0, 2), history.Add([At(1, "a", "id1"), At(2, "b", "id2")]));
        Assert.Equal(version, history.Version);
        Assert.Equal(2, history.TotalCount);
        Assert.Equal(["a", "b"], history.Events.Select(e => e.ItemId));
    }

    [Fact]
    public void Version_changes_only_when_something_is_accepted()
    {
        var history = new UserHistory(new UserState(), retention: 100);
        history.Add([At(1, "a")]);
        var v1 = history.Version;
        history.Add([At(1, "a")]);
        Assert.Equal(v1, history.Version);
        history.Add([At(2, "b")]);
        Assert.True(history.Version > v1);
    }

    [Fact]
    public void Retention_drops_the_oldest_but_the_total_counts_everything()
    {
        var history = new UserHistory(new UserState(), retention: 3);
        history.Add([At(1, "a"), At(2, "b"), At(3, "c"), At(4, "d")]);
        history.Add([At(0, "old")]);
        Assert.Equal(["b", "c", "d"], history.Events.Select(e => e.ItemId));
        Assert.Equal(5, history.TotalCount);
    }

    [Fact]
    public void Recent_items_are_the_last_n_in_timestamp_order()
    {
        var history = new UserHistory(new UserState(), retention: 100);
        history.Add([At(4, "d"), At(1, "a"), At(3, "c"), At(2, "b")]);
        Assert.Equal(["c", "d"], history.RecentItems(2, _ => true));
        Assert.Equal(["a", "b", "c", "d"], history.RecentItems(10, _ => true));
        Assert.Equal(["c", "d"], history.View(2).Events.Select(e => e.ItemId));
    }

    [Fact]
    public void Recent_items_skip_unknown_items_without_counting_them_and_stop_at_the_window()
    {
        var history = new UserHistory(new UserState(), retention: 100);
        history.Add([At(1, "a"), At(2, "new-1"), At(3, "b"), At(4, "c"), At(5, "new-2"), At(6, "d")]);
        Func<string, bool> known = item => !item.StartsWith("new-", StringComparison.Ordinal);

        Assert.Equal(["b", "c", "d"], history.RecentItems(3, known));
        Assert.Equal(["a", "b", "c", "d"], history.RecentItems(10, known));
        // The window counts events, known or not: the last four reach back to "b".
        Assert.Equal(["b", "c", "d"], history.RecentItems(10, known, window: 4));
        Assert.Equal(["d"], history.RecentItems(10, known, window: 1));
        Assert.Empty(history.RecentItems(10, _ => false));
    }

    [Fact]
    public void A_history_rebuilt_from_its_state_still_rejects_old_ids()
    {
        var state = new UserState();
        new UserHistory(state, retention: 100).Add([At(1, "a", "id1")]);
        var reloaded = new UserHistory(state, retention: 100);
        Assert.Equal(new IngestResult(0, 1), reloaded.Add([At(1, "a", "id1")]));
    }

    [Fact]
    public void Derived_event_ids_depend_on_every_part_and_nothing_else()
    {
        var id = EventIds.Derive("u", "i", EventType.Click, T0);
        Assert.Equal(id, EventIds.Derive("u", "i", EventType.Click, T0.ToOffset(TimeSpan.FromHours(2))));
        Assert.NotEqual(id, EventIds.Derive("u2", "i", EventType.Click, T0));
        Assert.NotEqual(id, EventIds.Derive("u", "i2", EventType.Click, T0));
        Assert.NotEqual(id, EventIds.Derive("u", "i", EventType.View, T0));
        Assert.NotEqual(id, EventIds.Derive("u", "i", EventType.Click, T0.AddTicks(1)));
    }

    [Fact]
    public void A_dismissal_is_not_interest_and_an_item_taken_up_after_it_is_no_longer_dismissed()
    {
        var history = new UserHistory(new UserState(), retention: 100);
        UserEvent Dismiss(int minutes, string item) => new(item, EventType.Dismiss, T0.AddMinutes(minutes), $"d-{item}-{minutes}");
        // b is viewed and then turned down; c is turned down without ever being had.
        history.Add([At(1, "a"), At(2, "b"), Dismiss(3, "c"), Dismiss(4, "b")]);
        Assert.Equal(["a", "b"], history.RecentItems(10, _ => true));
        Assert.Equal(["b", "a"], history.RecentDistinctItems(10));
        var (seen, dismissed) = history.DistinctItems();
        Assert.Equal(["a", "b", "c"], seen);
        Assert.Equal(["b", "c"], dismissed);

        // A view after the dismissal takes c up again; a dismissal that arrives late (older) does not undo a newer view.
        history.Add([At(5, "c"), Dismiss(0, "a")]);
        Assert.Equal(["a", "b", "c"], history.RecentItems(10, _ => true));
        Assert.Equal(["c", "b", "a"], history.RecentDistinctItems(10));
        Assert.Equal(["b"], history.DistinctItems().Dismissed);
        Assert.Equal(["a", "b", "c"], history.DistinctItems().Seen);
    }

    [Theory]
    [InlineData("view", EventType.View)]
    [InlineData("PURCHASE", EventType.Purchase)]
    [InlineData("Rating", EventType.Rating)]
    [InlineData("Dismiss", EventType.Dismiss)]
    public void Event_type_names_parse_ignoring_case(string text, EventType expected)
    {
        Assert.True(EventTypes.TryParse(text, out var type));
        Assert.Equal(expected, type);
    }

    [Theory]
    [InlineData("3")]
    [InlineData("-1")]
    [InlineData("")]
    [InlineData("share")]
    [InlineData("+3")]
    [InlineData("view,click")]
    [InlineData("click, cart")]
    [InlineData(" view")]
    public void Other_event_type_texts_are_rejected(string text) => Assert.False(EventTypes.TryParse(text, out _));
}

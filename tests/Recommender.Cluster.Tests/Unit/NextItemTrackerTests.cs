using Recommender.Abstractions;
using Recommender.Grains.Users;

namespace Recommender.Cluster.Tests.Unit;

public sealed class NextItemTrackerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    private static Ranking List(string version, RankingSource source, params string[] items) =>
        new([.. items.Select((id, i) => new RankedItem(id, id, 1.0 / (i + 1), 0.5f))], version, source, false);

    private static UserEvent At(DateTimeOffset timestamp, string item) => new(item, EventType.View, timestamp, $"e-{item}-{timestamp.Ticks}");

    [Theory]
    [InlineData("a", 1)]
    [InlineData("c", 3)]
    [InlineData("z", null)]
    public void The_next_event_is_ranked_against_the_list_served_before_it(string next, int? rank)
    {
        var tracker = new NextItemTracker(Window);
        tracker.Served(List("v2", RankingSource.Model, "a", "b", "c"), T0, T0.AddMinutes(1));
        Assert.Equal(new NextItemOutcome("v2", RankingSource.Model, rank), tracker.Follow([At(T0.AddMinutes(2), next)], T0.AddMinutes(2)));
    }

    [Fact]
    public void A_dismissal_is_not_the_next_action_and_leaves_the_list_waiting_for_one()
    {
        var tracker = new NextItemTracker(Window);
        tracker.Served(List("v2", RankingSource.Model, "a", "b", "c"), T0, T0.AddMinutes(1));
        var dismissA = new UserEvent("a", EventType.Dismiss, T0.AddMinutes(2), "d-a");
        Assert.Null(tracker.Follow([dismissA], T0.AddMinutes(2)));
        Assert.Equal(new NextItemOutcome("v2", RankingSource.Model, 3),
            tracker.Follow([new UserEvent("b", EventType.Dismiss, T0.AddMinutes(3), "d-b"), At(T0.AddMinutes(4), "c")], T0.AddMinutes(4)));
    }

    [Fact]
    public void Dismissals_of_listed_items_count_once_each_while_the_list_is_in_the_window_answered_or_not()
    {
        var tracker = new NextItemTracker(Window);
        UserEvent Dismiss(DateTimeOffset timestamp, string item) => new(item, EventType.Dismiss, timestamp, $"d-{item}-{timestamp.Ticks}");
        tracker.Served(List("v2", RankingSource.Model, "a", "b", "c"), T0, T0.AddMinutes(1));
        // Late history (older than what the list was ranked from) and items outside the list are not dismissals of it.
        Assert.Empty(tracker.Dismissals([Dismiss(T0.AddMinutes(-5), "b"), Dismiss(T0.AddMinutes(2), "z")], T0.AddMinutes(2)));
        Assert.Equal([new NextItemOutcome("v2", RankingSource.Model, 2), new NextItemOutcome("v2", RankingSource.Model, 3)],
            tracker.Dismissals([Dismiss(T0.AddMinutes(2), "b"), Dismiss(T0.AddMinutes(3), "c"), Dismiss(T0.AddMinutes(4), "b")], T0.AddMinutes(4)));
        // The user's next action answers the list; a later dismissal of another of its items still counts, a repeat does not.
        Assert.Equal(new NextItemOutcome("v2", RankingSource.Model, 1), tracker.Follow([At(T0.AddMinutes(5), "a")], T0.AddMinutes(5)));
        Assert.Equal([new NextItemOutcome("v2", RankingSource.Model, 1)], tracker.Dismissals([Dismiss(T0.AddMinutes(6), "a"), Dismiss(T0.AddMinutes(6), "c")], T0.AddMinutes(6)));
        // Past the window nothing counts.
        tracker.Served(List("v3", RankingSource.Popularity, "x"), null, T0.AddMinutes(10));
        Assert.Empty(tracker.Dismissals([Dismiss(T0.AddMinutes(30), "x")], T0.AddMinutes(10) + Window + TimeSpan.FromTicks(1)));
    }

    [Fact]
    public void A_purchase_or_a_dismissal_counts_against_the_newest_list_in_the_window_that_showed_the_item()
    {
        static UserEvent Bought(DateTimeOffset at, string item) => new(item, EventType.Purchase, at, $"p-{item}-{at.Ticks}");
        static UserEvent Dismissed(DateTimeOffset at, string item) => new(item, EventType.Dismiss, at, $"d-{item}-{at.Ticks}");
        var tracker = new NextItemTracker(Window);
        var arm = new ExperimentArm("v2", "v1", T0, true);
        // The home page's list; the user opens b, whose page gets a list without it (b is in the history now); b is bought there.
        tracker.Served(List("v2", RankingSource.Model, "a", "b", "c"), T0, T0.AddMinutes(1), arm: arm);
        Assert.Equal(new NextItemOutcome("v2", RankingSource.Model, 2, arm), tracker.Follow([At(T0.AddMinutes(2), "b")], T0.AddMinutes(2)));
        tracker.Served(List("v2", RankingSource.Model, "d", "e", "a"), T0.AddMinutes(2), T0.AddMinutes(2));
        Assert.Equal([new NextItemOutcome("v2", RankingSource.Model, 2, arm)], tracker.Purchases([Bought(T0.AddMinutes(3), "b")], T0.AddMinutes(3)));
        // Once a list: bought again, b counts no more; an item both lists showed counts against the newer one.
        Assert.Empty(tracker.Purchases([Bought(T0.AddMinutes(4), "b")], T0.AddMinutes(4)));
        Assert.Equal([new NextItemOutcome("v2", RankingSource.Model, 3)], tracker.Purchases([Bought(T0.AddMinutes(4), "a")], T0.AddMinutes(4)));
        Assert.Equal([new NextItemOutcome("v2", RankingSource.Model, 3, arm)], tracker.Dismissals([Dismissed(T0.AddMinutes(5), "c")], T0.AddMinutes(5)));
        Assert.Empty(tracker.Purchases([Bought(T0.AddMinutes(5), "z")], T0.AddMinutes(5)));
        // The first list leaves the window 15 minutes after it was served; the second stays 1 minute longer.
        Assert.Equal([new NextItemOutcome("v2", RankingSource.Model, 3), new NextItemOutcome("v2", RankingSource.Model, 2)],
            tracker.Dismissals([Dismissed(T0.AddMinutes(16.5), "a"), Dismissed(T0.AddMinutes(16.5), "e"), Dismissed(T0.AddMinutes(16.5), "b")], T0.AddMinutes(16.5)));
        Assert.Empty(tracker.Purchases([Bought(T0.AddMinutes(17.5), "d")], T0.AddMinutes(17.5)));

        // At most EarlierLists lists are kept besides the last: the oldest goes first.
        tracker = new NextItemTracker(Window);
        for (var i = 0; i <= NextItemTracker.EarlierLists + 1; i++)
            tracker.Served(List("v2", RankingSource.Model, $"i{i}"), T0, T0.AddSeconds(i));
        Assert.Empty(tracker.Purchases([Bought(T0.AddMinutes(1), "i0")], T0.AddMinutes(1)));
        Assert.Equal([new NextItemOutcome("v2", RankingSource.Model, 1)], tracker.Purchases([Bought(T0.AddMinutes(1), "i1")], T0.AddMinutes(1)));
        // An erased user's lists go with the user.
        tracker.Forget();
        Assert.Empty(tracker.Purchases([Bought(T0.AddMinutes(1), "i2")], T0.AddMinutes(1)));
    }

    [Fact]
    public void A_list_is_answered_once_by_the_earliest_following_event_and_a_new_list_replaces_the_old()
    {
        var tracker = new NextItemTracker(Window);
        tracker.Served(List("v1", RankingSource.Popularity, "a", "b"), null, T0);
        // Stored events come in timestamp order: the first is the next action, the others come after it.
        Assert.Equal(new NextItemOutcome("v1", RankingSource.Popularity, 2), tracker.Follow([At(T0, "b"), At(T0.AddSeconds(1), "a")], T0));
        Assert.Null(tracker.Follow([At(T0.AddMinutes(1), "a")], T0.AddMinutes(1)));

        tracker.Served(List("v1", RankingSource.Model, "x", "y"), T0.AddMinutes(1), T0.AddMinutes(2));
        tracker.Served(List("v2", RankingSource.Model, "y", "x"), T0.AddMinutes(1), T0.AddMinutes(3));
        Assert.Equal(new NextItemOutcome("v2", RankingSource.Model, 1), tracker.Follow([At(T0.AddMinutes(4), "y")], T0.AddMinutes(4)));
    }

    [Fact]
    public void Events_older_than_the_history_the_list_was_ranked_from_are_late_history_not_an_answer()
    {
        var tracker = new NextItemTracker(Window);
        tracker.Served(List("v1", RankingSource.Model, "a", "b"), T0, T0.AddMinutes(5));
        Assert.Null(tracker.Follow([At(T0.AddMinutes(-30), "a"), At(T0.AddSeconds(-1), "b")], T0.AddMinutes(6)));
        // The list still waits for the user's next action; an event at the newest event's own time follows it.
        Assert.Equal(new NextItemOutcome("v1", RankingSource.Model, 2), tracker.Follow([At(T0.AddMinutes(-2), "a"), At(T0, "b")], T0.AddMinutes(7)));
    }

    [Fact]
    public void A_list_older_than_the_window_is_dropped_and_a_zero_window_counts_nothing()
    {
        var tracker = new NextItemTracker(Window);
        tracker.Served(List("v1", RankingSource.Model, "a"), T0, T0);
        Assert.Equal(new NextItemOutcome("v1", RankingSource.Model, 1), tracker.Follow([At(T0.AddMinutes(1), "a")], T0 + Window));
        tracker.Served(List("v1", RankingSource.Model, "a"), T0, T0);
        Assert.Null(tracker.Follow([At(T0.AddMinutes(1), "a")], T0 + Window + TimeSpan.FromTicks(1)));
        Assert.Null(tracker.Follow([At(T0.AddMinutes(2), "a")], T0.AddMinutes(2)));

        var off = new NextItemTracker(TimeSpan.Zero);
        off.Served(List("v1", RankingSource.Model, "a"), T0, T0);
        Assert.Null(off.Follow([At(T0, "a")], T0));
    }

    [Fact]
    public void An_empty_list_or_an_erased_user_leaves_nothing_to_answer()
    {
        var tracker = new NextItemTracker(Window);
        tracker.Served(List("v1", RankingSource.Model, "a"), T0, T0);
        tracker.Served(List("", RankingSource.Popularity), T0, T0);
        Assert.Null(tracker.Follow([At(T0, "a")], T0));

        tracker.Served(List("v1", RankingSource.Model, "a"), T0, T0);
        tracker.Forget();
        Assert.Null(tracker.Follow([At(T0, "a")], T0));
    }

    [Fact]
    public void A_next_page_extends_the_list_so_ranks_count_from_its_top_and_a_page_of_another_list_starts_afresh()
    {
        var tracker = new NextItemTracker(Window);
        var list = NextItemTracker.ListOf(new RecommendationRequest(2, Tag: "drama"));
        tracker.Served(List("v2", RankingSource.Model, "a", "b"), T0, T0.AddMinutes(1), 0, list);
        tracker.Served(List("v2", RankingSource.Model, "c", "d"), T0, T0.AddMinutes(2), 2, list);
        Assert.Equal([new NextItemOutcome("v2", RankingSource.Model, 3)],
            tracker.Dismissals([new UserEvent("c", EventType.Dismiss, T0.AddMinutes(3), "d-c")], T0.AddMinutes(3)));
        // The first page is still part of the list served.
        Assert.Equal(new NextItemOutcome("v2", RankingSource.Model, 1), tracker.Follow([At(T0.AddMinutes(3), "a")], T0.AddMinutes(3)));
        tracker.Served(List("v2", RankingSource.Model, "a", "b"), T0, T0.AddMinutes(3), 0, list);
        tracker.Served(List("v2", RankingSource.Model, "c", "d"), T0, T0.AddMinutes(3), 2, list);
        Assert.Equal(new NextItemOutcome("v2", RankingSource.Model, 4), tracker.Follow([At(T0.AddMinutes(3), "d")], T0.AddMinutes(3)));

        // A page that is not the next one, or one of a list with other filters, is a list of its own, ranked from its offset.
        tracker.Served(List("v2", RankingSource.Model, "a", "b"), T0, T0.AddMinutes(4), 0, list);
        tracker.Served(List("v2", RankingSource.Model, "e", "f"), T0, T0.AddMinutes(5), 4, list);
        Assert.Equal(new NextItemOutcome("v2", RankingSource.Model, null), tracker.Follow([At(T0.AddMinutes(6), "a")], T0.AddMinutes(6)));
        tracker.Served(List("v2", RankingSource.Model, "a", "b"), T0, T0.AddMinutes(7), 0, list);
        tracker.Served(List("v2", RankingSource.Model, "g", "h"), T0, T0.AddMinutes(8), 2, NextItemTracker.ListOf(new RecommendationRequest(2, Tag: "comedy")));
        Assert.Equal(new NextItemOutcome("v2", RankingSource.Model, 4), tracker.Follow([At(T0.AddMinutes(9), "h")], T0.AddMinutes(9)));

        // Nor does a page extend a list ranked from another history (events arrived between the two reads).
        tracker.Served(List("v2", RankingSource.Model, "a", "b"), T0, T0.AddMinutes(10), 0, list);
        tracker.Served(List("v2", RankingSource.Model, "c", "d"), T0.AddMinutes(10), T0.AddMinutes(11), 2, list);
        Assert.Equal(new NextItemOutcome("v2", RankingSource.Model, null), tracker.Follow([At(T0.AddMinutes(12), "a")], T0.AddMinutes(12)));
        Assert.NotEqual(list, NextItemTracker.ListOf(new RecommendationRequest(2, Tag: "drama", Exclude: ["x"])));
        Assert.NotEqual(list, NextItemTracker.ListOf(new RecommendationRequest(2, Tag: "drama", ExcludeTags: ["kids"])));
        Assert.NotEqual(list, NextItemTracker.ListOf(new RecommendationRequest(2, Tag: "drama", Tags: ["drama", "kids"])));
        Assert.Equal(list, NextItemTracker.ListOf(new RecommendationRequest(2, Tag: "DRAMA")));
        // Boosts make another list (their order and the tags' case do not); without them the key is what it was before boosts.
        var boosted = NextItemTracker.ListOf(new RecommendationRequest(2, Tag: "drama", Boosts: [new("sale", 2), new("new", 0.5)]));
        Assert.NotEqual(list, boosted);
        Assert.Equal(boosted, NextItemTracker.ListOf(new RecommendationRequest(2, Tag: "drama", Boosts: [new("NEW", 0.5), new("Sale", 2)])));
        Assert.NotEqual(boosted, NextItemTracker.ListOf(new RecommendationRequest(2, Tag: "drama", Boosts: [new("sale", 3), new("new", 0.5)])));
        Assert.Equal(list, NextItemTracker.ListOf(new RecommendationRequest(2, Tag: "drama", Boosts: [])));
        // So do caps, and a cap is not a boost of the same tag and number.
        var capped = NextItemTracker.ListOf(new RecommendationRequest(2, Tag: "drama", Caps: [new("sale", 2), new("new", 1)]));
        Assert.NotEqual(list, capped);
        Assert.Equal(capped, NextItemTracker.ListOf(new RecommendationRequest(2, Tag: "drama", Caps: [new("NEW", 1), new("Sale", 2)])));
        Assert.NotEqual(capped, NextItemTracker.ListOf(new RecommendationRequest(2, Tag: "drama", Caps: [new("sale", 3), new("new", 1)])));
        Assert.NotEqual(NextItemTracker.ListOf(new RecommendationRequest(2, Caps: [new("sale", 2)])), NextItemTracker.ListOf(new RecommendationRequest(2, Boosts: [new("sale", 2)])));
        Assert.Equal(list, NextItemTracker.ListOf(new RecommendationRequest(2, Tag: "drama", Caps: [])));
        // A cap of each tag under a prefix is not a cap of the one tag.
        Assert.NotEqual(NextItemTracker.ListOf(new RecommendationRequest(2, Caps: [new("brand:", 2)])),
            NextItemTracker.ListOf(new RecommendationRequest(2, Caps: [new("brand:", 2, Each: true)])));
        Assert.Equal("\u001fDRAMA\u001f\u001f0", list);
        Assert.Equal(list, NextItemTracker.ListOf(new RecommendationRequest(7, Tag: "drama", Explain: true, Offset: 7)));
    }
}

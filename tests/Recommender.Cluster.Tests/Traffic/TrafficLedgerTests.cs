using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Traffic;

/// <summary>The ledger's history check accepts exactly the acknowledged events in a permitted order, and names every other outcome.</summary>
public sealed class TrafficLedgerTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static TrafficEvent Event(string id, int second, string item = "1") => new("u", item, "view", T0.AddSeconds(second), id, null);

    private static HistoryEventReply Stored(TrafficEvent e) => new(e.ItemId, e.Type, e.Timestamp, e.StoredId, e.Value);

    /// <summary>
    /// Posts: [a(10), b(20)] acknowledged at tick 2; c(20) sent at 3, acknowledged at 4; d(5) and a again, acknowledged
    /// at 6; e(30) sent at 7 but refused; x(40) in an invalid post.
    /// </summary>
    private static (TrafficLedger Ledger, Dictionary<string, TrafficEvent> Events) Ledger()
    {
        var events = new[] { Event("a", 10), Event("b", 20), Event("c", 20), Event("d", 5), Event("e", 30), Event("x", 40) }.ToDictionary(e => e.EventId!);
        var ledger = new TrafficLedger();
        void Post(int sequence, long sent, long answered, int status, bool invalid, params string[] ids)
        {
            var post = new EventPost(sequence, ids.Select(id => events[id]).ToArray(), invalid, false);
            var duplicates = ids.Count(id => id == "a" && sequence > 0);
            ledger.Record(new PostOutcome(post, sent, answered, status, status == 200 ? new IngestReply(ids.Length - duplicates, duplicates, 1, 0) : null, null));
        }
        Post(0, 1, 2, 200, false, "a", "b");
        Post(1, 3, 4, 200, false, "c");
        Post(2, 5, 6, 200, false, "d", "a");
        Post(3, 7, 8, 503, false, "e");
        Post(4, 9, 10, 400, true, "x");
        return (ledger, events);
    }

    private static IReadOnlyList<string> Check(params string[] ids)
    {
        var (ledger, events) = Ledger();
        return ledger.HistoryProblems("u", ids.Distinct().Count(), ids.Select(id => Stored(events[id])).ToArray());
    }

    [Fact]
    public void The_acknowledged_events_in_time_and_arrival_order_pass() => Assert.Empty(Check("d", "a", "b", "c"));

    [Fact]
    public void A_missing_event_is_named() => Assert.Contains(Check("d", "a", "b"), p => p.Contains("acknowledged event c"));

    [Fact]
    public void An_event_stored_twice_is_named() => Assert.Contains(Check("d", "a", "a", "b", "c"), p => p.Contains("event a is stored more than once"));

    [Fact]
    public void Events_out_of_timestamp_order_are_named() => Assert.Contains(Check("a", "d", "b", "c"), p => p.Contains("comes after"));

    [Fact]
    public void Equal_timestamps_against_their_arrival_order_are_named() =>
        // b was acknowledged (tick 2) before c was sent (tick 3), so b must come first.
        Assert.Contains(Check("d", "a", "c", "b"), p => p.Contains("against their arrival order"));

    [Fact]
    public void An_event_of_a_refused_post_may_be_stored_once_but_one_of_an_invalid_post_never()
    {
        Assert.Empty(Check("d", "a", "b", "c", "e"));
        Assert.Contains(Check("d", "a", "b", "c", "e", "e"), p => p.Contains("event e is stored more than once"));
        Assert.Contains(Check("d", "a", "b", "c", "x"), p => p.Contains("event x (item 1) was never sent in a valid post"));
    }

    [Fact]
    public void A_changed_field_and_a_wrong_total_are_named()
    {
        var (ledger, events) = Ledger();
        var history = new[] { "d", "a", "b", "c" }.Select(id => Stored(events[id])).ToArray();
        history[1] = history[1] with { ItemId = "2" };
        Assert.Contains(ledger.HistoryProblems("u", 4, history), p => p.Contains("event a is stored as (2,"));
        Assert.Contains(ledger.HistoryProblems("u", 5, history), p => p.Contains("total count is 5"));
    }

    [Fact]
    public void Answers_are_checked_against_the_posts()
    {
        var (ledger, _) = Ledger();
        var problems = ledger.AnswerProblems();
        Assert.Equal(["valid post 3 was answered 503: "], problems);
        Assert.Equal(["a", "b", "c", "d"], ledger.Acknowledged("u").Keys.Order());
        Assert.Equal(["1"], ledger.ItemsAcknowledgedBefore("u", 3));
        Assert.Empty(ledger.ItemsAcknowledgedBefore("u", 2));
    }
}

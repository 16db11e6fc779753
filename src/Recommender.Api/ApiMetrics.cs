using System.Diagnostics.Metrics;
using Recommender.Abstractions;

namespace Recommender.Api;

/// <summary>The API's own instruments (meter "Recommender.Api"), exported with the ASP.NET Core, runtime and Orleans ones.</summary>
public sealed class ApiMetrics
{
    public const string MeterName = "Recommender.Api";

    private readonly Counter<long> _events;
    private readonly Histogram<double> _recommendationLatency;
    private readonly Counter<long> _erasedUsers;
    private readonly Counter<long> _erasedEvents;
    private readonly Counter<long> _deletedItems;
    private readonly Counter<long> _removedEvents;
    private readonly Counter<long> _pins;
    private readonly Counter<long> _slots;

    public ApiMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _events = meter.CreateCounter<long>("recommender.events", "{event}", "Events received, by outcome (accepted or duplicate).");
        _erasedUsers = meter.CreateCounter<long>("recommender.users.erased", "{user}", "Users whose stored history DELETE /users/{id} deleted (repeats of an erasure not counted).");
        _erasedEvents = meter.CreateCounter<long>("recommender.events.erased", "{event}", "Retained events deleted by DELETE /users/{id}.");
        _removedEvents = meter.CreateCounter<long>("recommender.events.removed", "{event}",
            "Retained events taken back by DELETE /users/{id}/items/{itemId}, /users/{id}/events/{eventId} or POST /events/delete, by endpoint (item, event or batch); repeats not counted.");
        _deletedItems = meter.CreateCounter<long>("recommender.items.deleted", "{item}",
            "Items deleted from the catalogue (DELETE /items/{id}, POST /items/delete), by endpoint (single or batch); ids that were not there are not counted.");
        _pins = meter.CreateCounter<long>("recommender.pins", "{pin}", "Pins (pin=ITEM:POSITION, or a scenario's) whose places fell on a page answered, by outcome "
            + "(placed, or unplaced with the reason the list could not hold the item), list (user, session, similar, popular) and scenario (empty for none).");
        _slots = meter.CreateCounter<long>("recommender.slots", "{slot}", "Slots (slot=TAG:POSITION, or a scenario's) whose places fell on a page answered, by outcome "
            + "(filled by an item of the tag, or unfilled with the reason: noItems, noneAllowed, shownAbove, capped or listEnded), list (user, session, similar, popular) and scenario (empty for none); "
            + "a place a pin holds is not counted.");
        _recommendationLatency = meter.CreateHistogram<double>("recommender.recommendation.duration", "ms", "Time to answer a recommendation request, by source, cache use and subject (a stored user, a session sent with the request, the popular list asked for itself, an item's similar items, or the newest items).");
    }

    public void EventsIngested(int accepted, int duplicates)
    {
        _events.Add(accepted, new KeyValuePair<string, object?>("outcome", "accepted"));
        _events.Add(duplicates, new KeyValuePair<string, object?>("outcome", "duplicate"));
    }

    public void Erased(long events)
    {
        if (events == 0) return;
        _erasedUsers.Add(1);
        _erasedEvents.Add(events);
    }

    /// <summary>Counts events taken back through <paramref name="endpoint"/> (item, event or batch); a count of 0 (a repeat) records nothing.</summary>
    public void EventsRemoved(int count, string endpoint)
    {
        if (count > 0) _removedEvents.Add(count, new KeyValuePair<string, object?>("endpoint", endpoint));
    }

    /// <summary>Counts items deleted, by one DELETE (<paramref name="batch"/> false) or a batch; a count of 0 (nothing was there) records nothing.</summary>
    public void ItemsDeleted(int count, bool batch)
    {
        if (count > 0) _deletedItems.Add(count, new KeyValuePair<string, object?>("endpoint", batch ? "batch" : "single"));
    }

    /// <summary>
    /// Counts the pins and the slots whose places fell on <paramref name="ranking"/>'s page: the pins it placed and those it
    /// could not, the slots an item of their tag filled and those none did, each by reason, so that a scenario whose pinned
    /// item has sold out or whose sponsored tag has run dry shows before anyone reads an answer.
    /// </summary>
    public void Placements(Ranking ranking, ListKind list, string? scenario) =>
        Placements(ranking.Items.Count(i => i.Pinned), ranking.UnplacedPins, ranking.Items.Count(i => i.Slot is not null), ranking.UnfilledSlots, list, scenario);

    /// <summary>Counts the pins placed and not, and the slots filled and not, of one list (one page).</summary>
    public void Placements(int pinned, IReadOnlyList<UnplacedPin>? unplaced, int slotted, IReadOnlyList<UnfilledSlot>? unfilled, ListKind list, string? scenario)
    {
        var listTag = new KeyValuePair<string, object?>("list", list.ToString().ToLowerInvariant());
        var scenarioTag = new KeyValuePair<string, object?>("scenario", scenario ?? "");
        Count(_pins, pinned, "placed", "unplaced", unplaced?.Select(p => p.Reason));
        Count(_slots, slotted, "filled", "unfilled", unfilled?.Select(s => s.Reason));

        void Count<TReason>(Counter<long> counter, int done, string doneOutcome, string missedOutcome, IEnumerable<TReason>? missed) where TReason : struct, Enum
        {
            if (done > 0) counter.Add(done, new KeyValuePair<string, object?>("outcome", doneOutcome), listTag, scenarioTag);
            foreach (var reason in (missed ?? []).GroupBy(r => r))
                counter.Add(reason.Count(), new KeyValuePair<string, object?>("outcome", missedOutcome),
                    new KeyValuePair<string, object?>("reason", System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(reason.Key.ToString())), listTag, scenarioTag);
        }
    }

    /// <summary>Records an answer for a stored user's history, a history sent with the request, the popular list asked for itself, or an item's similar items.</summary>
    public void Recommended(Ranking ranking, TimeSpan elapsed, RecommendationSubject subject = RecommendationSubject.User) =>
        Record(elapsed, ranking.Source.ToString().ToLowerInvariant(), ranking.Cached, subject);

    /// <summary>Records an answer ordered by time (GET /latest): source "time", never cached.</summary>
    public void Recommended(TimeSpan elapsed, RecommendationSubject subject) => Record(elapsed, "time", false, subject);

    private void Record(TimeSpan elapsed, string source, bool cached, RecommendationSubject subject) =>
        _recommendationLatency.Record(elapsed.TotalMilliseconds,
            new KeyValuePair<string, object?>("source", source),
            new KeyValuePair<string, object?>("cached", cached),
            new KeyValuePair<string, object?>("subject", subject switch
            {
                RecommendationSubject.Session => "session",
                RecommendationSubject.Popular => "popular",
                RecommendationSubject.Similar => "similar",
                RecommendationSubject.Latest => "latest",
                _ => "user",
            }));
}

/// <summary>Which list a pin or a slot was on: the "list" of the pins and slots metrics.</summary>
public enum ListKind
{
    /// <summary>A stored user's list, alone or among several users' (GET /users/{id}/recommendations, POST /users/recommendations).</summary>
    User,

    /// <summary>A session's list (POST /recommendations).</summary>
    Session,

    /// <summary>An item's similar items (GET /items/{id}/similar).</summary>
    Similar,

    /// <summary>The popular list asked for itself (GET /popular).</summary>
    Popular,

    /// <summary>The newest items (GET /latest).</summary>
    Latest,
}

/// <summary>Whom a list was for: the "subject" of the recommendation-duration metric.</summary>
public enum RecommendationSubject
{
    /// <summary>A stored user (GET /users/{id}/recommendations).</summary>
    User,

    /// <summary>A history sent with the request (POST /recommendations).</summary>
    Session,

    /// <summary>Nobody: the popular list (GET /popular).</summary>
    Popular,

    /// <summary>An item: its similar items (GET /items/{id}/similar).</summary>
    Similar,

    /// <summary>Nobody: the newest items (GET /latest).</summary>
    Latest,
}

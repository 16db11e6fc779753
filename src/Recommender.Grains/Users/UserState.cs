using Recommender.Abstractions;

namespace Recommender.Grains.Users;

/// <summary>One retained event with its arrival number, which orders events that share a timestamp.</summary>
[GenerateSerializer, Immutable, Alias("recommender.stored-event")]
public sealed record StoredEvent(
    [property: Id(0)] string ItemId,
    [property: Id(1)] EventType Type,
    [property: Id(2)] DateTimeOffset Timestamp,
    [property: Id(3)] string EventId,
    [property: Id(4)] double? Value,
    [property: Id(5)] long Arrival)
{
    public UserEvent ToEvent() => new(ItemId, Type, Timestamp, EventId, Value);
}

/// <summary>The persisted state of a user grain.</summary>
[GenerateSerializer, Alias("recommender.user-state")]
public sealed class UserState
{
    /// <summary>Retained events in (timestamp, arrival) order.</summary>
    [Id(0)] public List<StoredEvent> Events { get; set; } = [];

    /// <summary>Every event ever accepted, including those trimmed from <see cref="Events"/>.</summary>
    [Id(1)] public long TotalCount { get; set; }

    /// <summary>Bumped by every batch that adds an event; stamps the cached interest vector.</summary>
    [Id(2)] public long HistoryVersion { get; set; }

    [Id(3)] public long NextArrival { get; set; }

    /// <summary>
    /// The A/B test run (candidate version and start) in which the user was last counted as served, so that a user is
    /// counted once a run however many lists, activations and silos serve them.
    /// </summary>
    [Id(4)] public string? CountedCandidate { get; set; }

    [Id(5)] public DateTimeOffset? CountedSince { get; set; }

    /// <summary>
    /// The ids of the events taken back lately (at most <see cref="UserHistory.MaxRetracted"/>, the latest last), so that
    /// one sent again (a client's retry, a journal's late hand-out) is a repeat rather than stored again.
    /// </summary>
    [Id(6)] public List<string> RetractedEventIds { get; set; } = [];
}

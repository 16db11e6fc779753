namespace Recommender.Abstractions;

/// <summary>One behaviour event of a user, already validated; <see cref="EventId"/> makes ingest idempotent.</summary>
[GenerateSerializer, Immutable, Alias("recommender.user-event")]
public sealed record UserEvent(
    [property: Id(0)] string ItemId,
    [property: Id(1)] EventType Type,
    [property: Id(2)] DateTimeOffset Timestamp,
    [property: Id(3)] string EventId,
    [property: Id(4)] double? Value = null);

/// <summary>How many events of a batch were new and how many were repeats of events already recorded.</summary>
[GenerateSerializer, Immutable, Alias("recommender.ingest-result")]
public sealed record IngestResult([property: Id(0)] int Accepted, [property: Id(1)] int Duplicates);

/// <summary>One user's events of a batch for several users.</summary>
[GenerateSerializer, Immutable, Alias("recommender.user-events")]
public sealed record UserEvents([property: Id(0)] string UserId, [property: Id(1)] UserEvent[] Events);

/// <summary>
/// What a batch for several users came to: events new and repeated in the histories written so far, and the users
/// (and their events) that are kept in the event journal until their histories take them.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.batch-ingest-result")]
public sealed record BatchIngestResult(
    [property: Id(0)] int Accepted,
    [property: Id(1)] int Duplicates,
    [property: Id(2)] int PendingUsers,
    [property: Id(3)] int PendingEvents);

/// <summary>A user's history in timestamp order (the most recent last), with the total number of events ever accepted.</summary>
[GenerateSerializer, Immutable, Alias("recommender.user-history")]
public sealed record UserHistoryView(
    [property: Id(0)] long TotalCount,
    [property: Id(1)] long HistoryVersion,
    [property: Id(2)] IReadOnlyList<UserEvent> Events);

/// <summary>
/// Which of a user's events to take back ("I did not watch this", a purchase refunded, a view by someone else on the
/// account): every event of <see cref="ItemId"/> (of <see cref="Type"/> only, when given), or the one event
/// <see cref="EventId"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.event-removal")]
public sealed record EventRemoval(
    [property: Id(0)] string? ItemId = null,
    [property: Id(1)] EventType? Type = null,
    [property: Id(2)] string? EventId = null)
{
    public bool Matches(string itemId, EventType type, string eventId) =>
        (ItemId is null || ItemId == itemId) && (Type is null || Type == type) && (EventId is null || EventId == eventId);
}

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

/// <summary>A user's history in timestamp order (the most recent last), with the total number of events ever accepted.</summary>
[GenerateSerializer, Immutable, Alias("recommender.user-history")]
public sealed record UserHistoryView(
    [property: Id(0)] long TotalCount,
    [property: Id(1)] long HistoryVersion,
    [property: Id(2)] IReadOnlyList<UserEvent> Events);

namespace Recommender.Cluster.Tests.Traffic;

/// <summary>One behaviour event as a client sends it; <see cref="EventId"/> is null when the server is to derive it.</summary>
public sealed record TrafficEvent(string UserId, string ItemId, string Type, DateTimeOffset Timestamp, string? EventId, double? Value)
{
    /// <summary>The id the event is stored under: its own, or the one the server derives from (user, item, type, timestamp).</summary>
    public string StoredId => EventId ?? Abstractions.EventIds.Derive(UserId, ItemId, ParsedType, Timestamp);

    private Abstractions.EventType ParsedType =>
        Abstractions.EventTypes.TryParse(Type, out var type) ? type : throw new InvalidOperationException($"'{Type}' is not an event type.");
}

/// <summary>A step of simulated traffic, numbered in plan order.</summary>
public abstract record TrafficOperation(int Sequence);

/// <summary>
/// POST /events with one event (sent as a JSON object when <see cref="AsObject"/>) or a batch. An invalid post
/// carries an item that is not in the catalogue and must be refused as a whole.
/// </summary>
public sealed record EventPost(int Sequence, IReadOnlyList<TrafficEvent> Events, bool Invalid, bool AsObject) : TrafficOperation(Sequence)
{
    public string UserId => Events[0].UserId;
}

/// <summary>GET /users/{id}/recommendations?k=K.</summary>
public sealed record RecommendationRead(int Sequence, string UserId, int K) : TrafficOperation(Sequence);

/// <summary>A generated run: the operations in the order they are handed to the workers, and what was sampled from.</summary>
public sealed record TrafficPlan(IReadOnlyList<TrafficOperation> Operations, IReadOnlyList<string> Items, IReadOnlyList<string> Users)
{
    public IEnumerable<EventPost> Posts => Operations.OfType<EventPost>();

    public IEnumerable<RecommendationRead> Reads => Operations.OfType<RecommendationRead>();

    /// <summary>Every event of the valid posts, resends included.</summary>
    public IEnumerable<TrafficEvent> SentEvents => Posts.Where(p => !p.Invalid).SelectMany(p => p.Events);
}

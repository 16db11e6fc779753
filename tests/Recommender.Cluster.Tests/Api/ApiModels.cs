namespace Recommender.Cluster.Tests.Api;

// The JSON the API answers with, as a client reads it.
public sealed record IngestReply(int Accepted, int Duplicates, int Users, int PendingUsers, List<string>? NotInCatalogue = null);

public sealed record RecommendedItemReply(string Id, string Title, double Score, float Similarity, double? Boost = null, bool? Pinned = null, string? Slot = null);

public sealed record UnplacedPinReply(string Id, int Position, string Reason, bool? Hidden = null, DateTimeOffset? AvailableFrom = null, DateTimeOffset? ExpiredAt = null);

public sealed record UnfilledSlotReply(string Tag, int Position, string Reason);

public sealed record RecommendationsReply(string UserId, string ModelVersion, string Source, bool Cached, List<RecommendedItemReply> Items,
    List<UnplacedPinReply>? UnplacedPins = null, List<UnfilledSlotReply>? UnfilledSlots = null);

public sealed record SessionRecommendationsReply(string ModelVersion, string Source, bool Cached, List<RecommendedItemReply> Items,
    List<UnplacedPinReply>? UnplacedPins = null, List<UnfilledSlotReply>? UnfilledSlots = null, List<string>? NotInCatalogue = null);

public sealed record SimilarReply(string ItemId, string ModelVersion, List<RecommendedItemReply> Items, List<UnplacedPinReply>? UnplacedPins = null,
    List<UnfilledSlotReply>? UnfilledSlots = null);

public sealed record HistoryEventReply(string ItemId, string Type, DateTimeOffset Timestamp, string EventId, double? Value);

public sealed record ErasedUserReply(string UserId, long ErasedEvents);

public sealed record DeletedItemReply(string Id, bool Deleted);

public sealed record HistoryReply(string UserId, long TotalCount, long HistoryVersion, List<HistoryEventReply> Events);

public sealed record PlacementReply(string ModelVersion, int Shard, int Row, int? DenseId);

public sealed record ItemReply(string Id, string Title, string? Text, List<string> Tags, bool HasEmbedding, bool Recommendable, PlacementReply? Placement, bool Hidden = false, string? Note = null,
    DateTimeOffset? AvailableFrom = null, DateTimeOffset? ExpiresAt = null, bool Available = true, string? Version = null);

public sealed record ItemsReply(int Count, List<ItemReply> Items);

public sealed record ProblemReply(string? Title, int Status, Dictionary<string, string[]>? Errors, string? Detail);

using Recommender.Abstractions;

namespace Recommender.Api.Endpoints;

public sealed record IngestResponse(int Accepted, int Duplicates, int Users);

public sealed record RecommendedItem(string Id, string Title, double Score, float Similarity)
{
    public static RecommendedItem From(RankedItem item) => new(item.ItemId, item.Title, item.Score, item.Similarity);
}

public sealed record RecommendationsResponse(string UserId, string ModelVersion, string Source, bool Cached, IReadOnlyList<RecommendedItem> Items);

public sealed record SimilarItemsResponse(string ItemId, string ModelVersion, IReadOnlyList<RecommendedItem> Items);

public sealed record HistoryEvent(string ItemId, string Type, DateTimeOffset Timestamp, string EventId, double? Value);

public sealed record HistoryResponse(string UserId, long TotalCount, long HistoryVersion, IReadOnlyList<HistoryEvent> Events);

public sealed record PlacementResponse(string ModelVersion, int Shard, int Row, int? DenseId);

public sealed record ItemResponse(string Id, string Title, string? Text, IReadOnlyList<string> Tags, bool HasEmbedding, bool Recommendable, PlacementResponse? Placement, DateTimeOffset? UpdatedAt)
{
    public static ItemResponse From(ItemView view)
    {
        var p = view.Placement;
        return new ItemResponse(view.Details.Id, view.Details.Title, view.Details.Text, view.Details.Tags, view.Details.Embedding is not null, p is not null,
            p is null ? null : new PlacementResponse(p.ModelVersion, p.Shard, p.Row, p.DenseId > 0 ? p.DenseId : null),
            view.UpdatedAt == DateTimeOffset.MinValue ? null : view.UpdatedAt);
    }
}

public sealed record ItemsResponse(int Count, IReadOnlyList<ItemResponse> Items);

/// <summary>Request shapes, for the OpenAPI document (bodies are read and validated by hand).</summary>
public sealed record EventRequest(string UserId, string ItemId, string Type, DateTimeOffset? Timestamp, string? EventId, double? Value);

public sealed record ItemRequest(string? Id, string Title, string? Text, IReadOnlyList<string>? Tags, float[]? Embedding);

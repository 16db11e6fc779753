namespace Recommender.Abstractions;

/// <summary>
/// Catalogue details of an item. <see cref="Embedding"/> is an optional float32 vector of the active model's
/// dimension, carried as little-endian bytes so that it crosses grain boundaries as one block.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.item-details")]
public sealed record ItemDetails(
    [property: Id(0)] string Id,
    [property: Id(1)] string Title,
    [property: Id(2)] string? Text,
    [property: Id(3)] IReadOnlyList<string> Tags,
    [property: Id(4)] byte[]? Embedding = null);

/// <summary>Where an item's vector lives for a model version: its shard and row, and its dense id if the model was trained on it.</summary>
[GenerateSerializer, Immutable, Alias("recommender.item-placement")]
public sealed record ItemPlacement(
    [property: Id(0)] string ModelVersion,
    [property: Id(1)] int Shard,
    [property: Id(2)] int Row,
    [property: Id(3)] int DenseId);

/// <summary>An item as the catalogue knows it, with its placement when it is recommendable.</summary>
[GenerateSerializer, Immutable, Alias("recommender.item-view")]
public sealed record ItemView(
    [property: Id(0)] ItemDetails Details,
    [property: Id(1)] ItemPlacement? Placement,
    [property: Id(2)] DateTimeOffset UpdatedAt);

/// <summary>
/// One row handed to a shard: external id, title, tags (for filtered scans) and (for items outside the model's
/// vocabulary or with a new vector) the vector bytes.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.shard-entry")]
public sealed record ShardEntry(
    [property: Id(0)] string ItemId,
    [property: Id(1)] string Title,
    [property: Id(2)] byte[]? Vector,
    [property: Id(3)] IReadOnlyList<string>? Tags = null);

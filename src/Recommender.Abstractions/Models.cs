namespace Recommender.Abstractions;

/// <summary>The model that serves recommendations, and how its item vectors are partitioned into shards.</summary>
[GenerateSerializer, Immutable, Alias("recommender.active-model")]
public sealed record ActiveModel(
    [property: Id(0)] string Version,
    [property: Id(1)] int Dimension,
    [property: Id(2)] string Similarity,
    [property: Id(3)] int Shards,
    [property: Id(4)] int ItemCount,
    [property: Id(5)] DateTimeOffset ActivatedAt);

/// <summary>
/// A version served beside the active one to a share of the users (an A/B test), over shards of its own that item
/// writes keep up to date; <see cref="ActiveModel.ActivatedAt"/> is when it began.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.model-candidate")]
public sealed record ModelCandidate(
    [property: Id(0)] ActiveModel Model,
    [property: Id(1)] double Share);

/// <summary>An item in the popularity list served to users without history.</summary>
[GenerateSerializer, Immutable, Alias("recommender.popular-item")]
public sealed record PopularItem(
    [property: Id(0)] string ItemId,
    [property: Id(1)] string Title,
    [property: Id(2)] long Count,
    [property: Id(3)] IReadOnlyList<string>? Tags = null,
    [property: Id(4)] DateTimeOffset? AvailableFrom = null);

/// <summary>The items, among some asked about, that a model version placed outside its vocabulary (by their embedding or text).</summary>
[GenerateSerializer, Immutable, Alias("recommender.placed-items")]
public sealed record PlacedItems(
    [property: Id(0)] string? ModelVersion,
    [property: Id(1)] string[] ItemIds);

/// <summary>
/// What the catalogue hands to every silo's cache: the active model, the popularity list and a revision that changes
/// with them. <see cref="Loading"/> is true while the demo load is under way (recommendations wait for it).
/// <see cref="Hidden"/> comes only to a caller whose hidden set is not the one <see cref="HiddenToken"/> names, and is
/// null otherwise: a large hidden set is sent once per change, not with every refresh. <see cref="Candidate"/>: the
/// version some users are served instead of the active one, if any.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.catalogue-snapshot")]
public sealed record CatalogueSnapshot(
    [property: Id(0)] long Revision,
    [property: Id(1)] ActiveModel? Model,
    [property: Id(2)] IReadOnlyList<PopularItem> Popular,
    [property: Id(3)] bool Seeded,
    [property: Id(4)] int ItemCount,
    [property: Id(5)] bool Loading = false,
    [property: Id(6)] string[]? Hidden = null,
    [property: Id(7)] long HiddenToken = 0,
    [property: Id(8)] ModelCandidate? Candidate = null);

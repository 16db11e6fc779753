namespace Recommender.Abstractions;

/// <summary>The files of a model package as uploaded, before validation (the text projection is optional).</summary>
[GenerateSerializer, Immutable, Alias("recommender.model-upload")]
public sealed record ModelUpload(
    [property: Id(0)] byte[] Manifest,
    [property: Id(1)] byte[] Encoder,
    [property: Id(2)] byte[] Embeddings,
    [property: Id(3)] byte[]? TextProjection = null);

/// <summary>Where a registered version stands.</summary>
[GenerateSerializer, Alias("recommender.model-state")]
public enum ModelVersionState
{
    /// <summary>Stored and validated; never served or no longer served.</summary>
    Registered = 0,

    /// <summary>Its shards are being loaded; the active pointer has not moved yet.</summary>
    Activating = 1,

    /// <summary>Serving every request.</summary>
    Active = 2,

    /// <summary>Was active or a candidate; its shards drain and deactivate after the grace period.</summary>
    Retired = 3,

    /// <summary>Serving a share of the users beside the active version (<see cref="ModelCandidate"/>).</summary>
    Candidate = 4,
}

/// <summary>A registered model version as the registry lists it.</summary>
[GenerateSerializer, Immutable, Alias("recommender.model-info")]
public sealed record ModelInfo(
    [property: Id(0)] string Version,
    [property: Id(1)] string Kind,
    [property: Id(2)] int Dimension,
    [property: Id(3)] int MaxLength,
    [property: Id(4)] string Similarity,
    [property: Id(5)] int ItemCount,
    [property: Id(6)] ModelVersionState State,
    [property: Id(7)] DateTimeOffset RegisteredAt,
    [property: Id(8)] DateTimeOffset? ActivatedAt,
    [property: Id(9)] bool Fallback,
    [property: Id(10)] IReadOnlyDictionary<string, double>? Metrics = null,
    [property: Id(11)] string ItemRepresentation = "id",
    [property: Id(12)] bool TextProjection = false,
    [property: Id(13)] DateTimeOffset? RetiredAt = null);

/// <summary>A problem with an upload, naming the part ("manifest", "encoder", "embeddings", "version") it concerns.</summary>
[GenerateSerializer, Immutable, Alias("recommender.upload-error")]
public sealed record UploadError([property: Id(0)] string Field, [property: Id(1)] string Message);

/// <summary>
/// The outcome of a registration: the stored version, or the errors (nothing stored). <see cref="Conflict"/>: the version
/// exists already; <see cref="NotFound"/>: no package is placed under the version's directory.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.model-registration")]
public sealed record ModelRegistration(
    [property: Id(0)] ModelInfo? Model,
    [property: Id(1)] IReadOnlyList<UploadError> Errors,
    [property: Id(2)] bool Conflict = false,
    [property: Id(3)] bool NotFound = false);

/// <summary>
/// The outcome of a deletion: the version as it was registered, or why it stays (<see cref="Refusal"/>: it serves, is
/// being activated, or its shards may still answer requests; <see cref="NotFound"/>: no such version).
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.model-deletion")]
public sealed record ModelDeletion(
    [property: Id(0)] ModelInfo? Deleted,
    [property: Id(1)] string? Refusal = null,
    [property: Id(2)] bool NotFound = false);

/// <summary>
/// The outcome of an activation: the model now active, the one it replaced, how many items added through the API were
/// carried into the new version's shards, and the ids of those that could not be (no vector of the new dimension).
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.activation-result")]
public sealed record ActivationResult(
    [property: Id(0)] ActiveModel Model,
    [property: Id(1)] string? Previous,
    [property: Id(2)] int CarriedItems,
    [property: Id(3)] IReadOnlyList<string> NotRecommendable,
    [property: Id(4)] int NotInCatalogue = 0);

/// <summary>
/// What a recommendation request asks for: k items, the user's own items excluded unless <see cref="IncludeSeen"/>,
/// minus <see cref="Exclude"/>, only items tagged <see cref="Tag"/> when given; with <see cref="Explain"/>, each
/// model-ranked item names the history items it is closest to; <see cref="Diversity"/> (0 to 1) trades relevance for
/// items unlike each other; <see cref="Offset"/> skips that many items of the list first (a page further down it).
/// With several tags, <see cref="Tags"/> holds them all (an item carrying any one is listed) and <see cref="Tag"/> the
/// first; items carrying any of <see cref="ExcludeTags"/> are left out. Each of <see cref="Boosts"/> multiplies the score of
/// the items carrying its tag before the list is cut and its scores are normalised; each of <see cref="Caps"/> lets at
/// most its count of items carrying its tag into the list. <see cref="Scenario"/> names the scenario whose rules the
/// request carries (they are applied before it is sent), so that what users do after its lists is counted by scenario.
/// Each of <see cref="Pins"/> puts an item at a fixed place of the list, each of <see cref="Slots"/> the best item of a tag.
/// <see cref="Fresh"/> multiplies the weight of items by how recently they became available, as a boost does;
/// <see cref="MaxAge"/> lists only items that became available within it.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.recommendation-request")]
public sealed record RecommendationRequest(
    [property: Id(0)] int K,
    [property: Id(1)] bool IncludeSeen = false,
    [property: Id(2)] string[]? Exclude = null,
    [property: Id(3)] string? Tag = null,
    [property: Id(4)] bool Explain = false,
    [property: Id(5)] float Diversity = 0,
    [property: Id(6)] int Offset = 0,
    [property: Id(7)] string[]? Tags = null,
    [property: Id(8)] string[]? ExcludeTags = null,
    [property: Id(9)] TagBoost[]? Boosts = null,
    [property: Id(10)] TagCap[]? Caps = null,
    [property: Id(11)] string? Scenario = null,
    [property: Id(12)] ItemPin[]? Pins = null,
    [property: Id(13)] TagSlot[]? Slots = null,
    [property: Id(14)] Freshness? Fresh = null,
    [property: Id(15)] TimeSpan? MaxAge = null)
{
    /// <summary>The tags of which a listed item carries one (none: any item); see <see cref="TagMatch.Fields"/>.</summary>
    public IReadOnlyList<string> AnyTags => TagMatch.AnyOf(Tag, Tags);
}

/// <summary>
/// A scan's filter: at most <see cref="K"/> rows, none of <see cref="Exclude"/>, and only rows tagged <see cref="Tag"/>
/// (ignoring case) when given, or with several tags any of <see cref="Tags"/>; no row tagged any of
/// <see cref="ExcludeTags"/>. With a <see cref="Diversity"/> above 0 the K are picked from a larger pool of the best
/// rows, each unlike those picked before it, and a shard returns its rows' vectors for that. <see cref="Offset"/> rows
/// of the list come before the K (a later page): the list is ranked to Offset + K and its first Offset left out, so
/// pages read one after another make up the list a single read of Offset + K gives. A shard is asked for Offset + K.
/// A row carrying the tag of one of <see cref="Boosts"/> ranks by its similarity plus the temperature times the log of
/// the boost's factor (of each such boost), so that its softmax score is multiplied by the factors. With
/// <see cref="Caps"/>, each row returned says which of them its tags fill (<see cref="ScoredItem.CappedTags"/>), and the
/// list is taken from the merged rows cap by cap (<c>TagCaps</c>), the scan going deeper until the list is full. With
/// <see cref="CapSurvivors"/> as well (a list not picked for diversity), a shard leaves out the rows the caps certainly
/// pass over and marks the last row it ranked (<see cref="ScoredItem.ScanEnd"/>), so that the caller knows how far down
/// its candidates reach. Each of <see cref="Pins"/> within the list's depth puts its item at its place, the ranked rows
/// filling the others: a shard ranks no pinned item (so that pages join up wherever the pin stands) and sends after its
/// ranked rows those it holds that the filter lets a list hold, marked <see cref="ScoredItem.Pinned"/>. For
/// <see cref="Slots"/> a shard sends last, for each slot's tag, its best rows carrying the tag that the filter lets a
/// list hold, as many as the tag's deepest slot (with <see cref="DeepSlots"/>, at least K: under caps, which may pass
/// over a tag's best), marked <see cref="ScoredItem.Slot"/>. With <see cref="Fresh"/> a row adds the temperature times the
/// log of its freshness factor (<see cref="Freshness.LogFactor"/>) as it adds a boost's. With <see cref="MaxAge"/> only
/// rows whose items became available within it (by their <c>availableFrom</c>; an item without one has no age) are ranked.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.scan-filter")]
public sealed record ScanFilter(
    [property: Id(0)] int K,
    [property: Id(1)] string[] Exclude,
    [property: Id(2)] string? Tag = null,
    [property: Id(3)] float Diversity = 0,
    [property: Id(4)] int Offset = 0,
    [property: Id(5)] string[]? Tags = null,
    [property: Id(6)] string[]? ExcludeTags = null,
    [property: Id(7)] TagBoost[]? Boosts = null,
    [property: Id(8)] TagCap[]? Caps = null,
    [property: Id(9)] bool CapSurvivors = false,
    [property: Id(10)] ItemPin[]? Pins = null,
    [property: Id(11)] TagSlot[]? Slots = null,
    [property: Id(12)] bool DeepSlots = false,
    [property: Id(13)] Freshness? Fresh = null,
    [property: Id(14)] TimeSpan? MaxAge = null)
{
    /// <summary>How deep the list is ranked: the rows skipped and the rows returned.</summary>
    public int Depth => Offset + K;

    /// <summary>The scan a list of <paramref name="request"/> asks of the shards, leaving out <paramref name="exclude"/> (the request's exclusions and the list's own).</summary>
    public static ScanFilter For(RecommendationRequest request, string[] exclude) =>
        new(request.K, exclude, request.Tag, request.Diversity, request.Offset, request.Tags, request.ExcludeTags, request.Boosts, request.Caps,
            Pins: request.Pins, Slots: request.Slots, Fresh: request.Fresh, MaxAge: request.MaxAge);

    /// <summary>The tags of which a row carries one (none: any row); see <see cref="TagMatch.Fields"/>.</summary>
    public IReadOnlyList<string> AnyTags => TagMatch.AnyOf(Tag, Tags);
}

/// <summary>
/// Merchandising: items carrying <see cref="Tag"/> (ignoring case) weigh <see cref="Factor"/> times as much in a list as
/// their relevance alone gives (a factor below 1 holds them back); an item carrying several boosted tags takes each factor.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.tag-boost")]
public sealed record TagBoost([property: Id(0)] string Tag, [property: Id(1)] double Factor);

/// <summary>
/// Merchandising for catalogues that age (news, listings, social posts): an item that became available just now weighs
/// <see cref="Factor"/> times as much in a list as its relevance alone gives, one <see cref="HalfLife"/> old half as much
/// more, and so on towards 1: 1 + (factor − 1) · 2^(−age / half-life). An item's age counts from its
/// <c>availableFrom</c>; an item written without one has no age and keeps its weight. A factor below 1 holds new items
/// back in the same way.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.freshness")]
public sealed record Freshness([property: Id(0)] TimeSpan HalfLife, [property: Id(1)] double Factor)
{
    /// <summary>The log of the factor an item available since <paramref name="since"/> takes at <paramref name="now"/> (0 without a time).</summary>
    public double LogFactor(DateTimeOffset? since, DateTimeOffset now)
    {
        if (since is not { } from) return 0;
        var halfLives = Math.Max(0, (now - from).TotalSeconds) / HalfLife.TotalSeconds;
        return Math.Log(1 + (Factor - 1) * Math.Pow(2, -halfLives));
    }

    /// <summary>The largest log factor any item can take: that of an item available just now, or none when new items are held back.</summary>
    public double MaxLogFactor => Math.Max(0, Math.Log(Factor));
}

/// <summary>
/// Merchandising: at most <see cref="Count"/> items carrying <see cref="Tag"/> (ignoring case) in a list, counted from
/// its top (a sponsored slot, one brand's share); the list is taken in its order, passing over an item once a cap of one
/// of its tags is full, and filled from further down. With <see cref="Each"/>, <see cref="Tag"/> is a prefix (empty for
/// every tag) and the count holds for each tag that starts with it on its own: at most two items of any one brand
/// among tags brand:acme, brand:zeta and so on. An item counts against every capped tag it carries.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.tag-cap")]
public sealed record TagCap([property: Id(0)] string Tag, [property: Id(1)] int Count, [property: Id(2)] bool Each = false)
{
    /// <summary>Whether an item's <paramref name="tag"/> counts against this cap (ignoring case).</summary>
    public bool Covers(string tag) =>
        Each ? tag.StartsWith(Tag, StringComparison.OrdinalIgnoreCase) : string.Equals(tag, Tag, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Time-decayed interaction weight of one item, as a silo flushes it to a popularity partition.</summary>
[GenerateSerializer, Immutable, Alias("recommender.popularity-delta")]
public sealed record PopularityDelta([property: Id(0)] string ItemId, [property: Id(1)] double Weight);

/// <summary>An item's decayed popularity score at the time it was read.</summary>
[GenerateSerializer, Immutable, Alias("recommender.popularity-score")]
public sealed record PopularityScore([property: Id(0)] string ItemId, [property: Id(1)] double Score);

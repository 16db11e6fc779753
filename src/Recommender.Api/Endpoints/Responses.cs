using System.ComponentModel;
using System.Text.Json.Serialization;
using Recommender.Abstractions;

namespace Recommender.Api.Endpoints;

/// <summary>
/// What a POST /events came to. <see cref="PendingUsers"/> (answered 202) are users of a multi-user batch whose
/// histories could not be written yet: their events are stored in the event journal and written by its retries.
/// </summary>
public sealed record IngestResponse(int Accepted, int Duplicates, int Users, int PendingUsers,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description("With unknownItems=accept, the items of the events stored that are not in the catalogue (deleted, or never written), each once.")]
    IReadOnlyList<string>? NotInCatalogue = null);

/// <summary>A ranked item; <see cref="Because"/> appears only when explanations were asked for (explain=true).</summary>
public sealed record RecommendedItem(
    string Id,
    string Title,
    [property: Description("The item's share of a softmax over the returned items, exp(similarity / T) / Σ exp(similarity_j / T): "
        + "T = 1 for dot-product models and the popularity list, Recommender:SoftmaxTemperature (0.1) for cosine models; "
        + "with boost=TAG:FACTOR, a boosted item's exp(similarity / T) is multiplied by the factor first. The scores of one answer sum to 1.")]
    double Score,
    [property: Description("What the score is computed from: the model's similarity of the item to the query (the user's interest vector, "
        + "or the item for /similar; a dot product or a cosine, as the model's 'similarity' says), or for the popularity list the natural "
        + "logarithm of the item's time-decayed event count. Boosts do not change it.")]
    float Similarity,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ReasonItem>? Because = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull),
        Description("Present when the request's boosts applied to the item: the factor its weight was multiplied by (the product of the factors of "
            + "its boosted tags, to six significant digits), e.g. for labelling promoted items.")]
    double? Boost = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull),
        Description("true when a pin of the request (pin=ITEM:POSITION, or the scenario's) put the item at its place, which its score alone "
            + "would not give it; absent otherwise.")]
    bool? Pinned = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull),
        Description("The tag of the slot (slot=TAG:POSITION, or the scenario's) that put the item at its place; absent otherwise.")]
    string? Slot = null)
{
    public static RecommendedItem From(RankedItem item) =>
        new(item.ItemId, item.Title, item.Score, item.Similarity, item.Because?.Select(r => new ReasonItem(r.ItemId, r.Title, r.Similarity)).ToArray(), item.Boost,
            item.Pinned ? true : null, item.Slot);
}

/// <summary>A history item that explains a recommendation: the cosine similarity of its vector to the recommended item's.</summary>
public sealed record ReasonItem(string ItemId, string Title, float Similarity);

public sealed record RecommendationsResponse(string UserId, string ModelVersion, string Source, bool Cached, IReadOnlyList<RecommendedItem> Items,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description(UnplacedPinsText.Description)] IReadOnlyList<UnplacedPinResponse>? UnplacedPins = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description(UnfilledSlotsText.Description)] IReadOnlyList<UnfilledSlotResponse>? UnfilledSlots = null);

/// <summary>
/// POST /recommendations: no user, since nothing of the session is stored; cached when the session's vector was the
/// silo's from an earlier request with the same items.
/// </summary>
public sealed record SessionRecommendationsResponse(string ModelVersion, string Source, bool Cached, IReadOnlyList<RecommendedItem> Items,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description(UnplacedPinsText.Description)] IReadOnlyList<UnplacedPinResponse>? UnplacedPins = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description(UnfilledSlotsText.Description)] IReadOnlyList<UnfilledSlotResponse>? UnfilledSlots = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description("With \"unknownItems\": \"accept\", the session's items that are not in the catalogue (deleted, or never written), each once; the model read those it was trained on.")]
    IReadOnlyList<string>? NotInCatalogue = null);

public sealed record SimilarItemsResponse(string ItemId, string ModelVersion, IReadOnlyList<RecommendedItem> Items,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description(UnplacedPinsText.Description)] IReadOnlyList<UnplacedPinResponse>? UnplacedPins = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description(UnfilledSlotsText.Description)] IReadOnlyList<UnfilledSlotResponse>? UnfilledSlots = null);

/// <summary>POST /users/recommendations: each user's list, in the order the users were given.</summary>
public sealed record UsersRecommendationsResponse(IReadOnlyList<RecommendationsResponse> Users);

/// <summary>GET /popular: the same list for every caller, under the active version.</summary>
public sealed record PopularItemsResponse(string ModelVersion, IReadOnlyList<RecommendedItem> Items,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description(UnplacedPinsText.Description)] IReadOnlyList<UnplacedPinResponse>? UnplacedPins = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description(UnfilledSlotsText.Description)] IReadOnlyList<UnfilledSlotResponse>? UnfilledSlots = null);

/// <summary>What a list's "unplacedPins" says, in the OpenAPI document.</summary>
internal static class UnplacedPinsText
{
    public const string Description = "Present when pins (pin=ITEM:POSITION, or the scenario's) name places on this page that the list could not hold the item at; "
        + "ranked items hold those places. Top place first, each with the reason.";
}

/// <summary>What a list's "unfilledSlots" says, in the OpenAPI document.</summary>
internal static class UnfilledSlotsText
{
    public const string Description = "Present when slots (slot=TAG:POSITION, or the scenario's) name places on this page that no item of their tag filled "
        + "(the ranking filled them, or the list ended above them); a place a pin holds is not named. Top place first, each with the reason.";
}

/// <summary>A slot no item of its tag filled: the tag, the place, and why.</summary>
public sealed record UnfilledSlotResponse(
    string Tag,
    int Position,
    [property: Description("noItems: no item the catalogue lists now (not hidden, available) carries the tag; noneAllowed: items carry it, but the list may "
        + "hold none of them (its filters, exclusions, the user's seen or dismissed items; in the popular list, items never counted); shownAbove: every "
        + "item of the tag the list may hold is shown above the place; capped: the caps keep out those not shown above it; listEnded: the list ends above "
        + "the place.")]
    SlotShortfall Reason)
{
    public static IReadOnlyList<UnfilledSlotResponse>? From(IReadOnlyList<UnfilledSlot>? unfilled) =>
        unfilled?.Select(s => new UnfilledSlotResponse(s.Tag, s.Position, s.Reason)).ToArray();
}

/// <summary>
/// A pin the list could not place: the item, its place, and why; an unavailable item says which of hidden, not yet
/// available (until when) and expired (since when) it is (<see cref="PinAvailability"/>).
/// </summary>
public sealed record UnplacedPinResponse(
    string Id,
    int Position,
    [property: Description("unknown: no item of that id is in the catalogue under the version that ranked the list; unavailable: hidden, expired or not yet "
        + "available (hidden, availableFrom and expiredAt say which); excluded: by the request or its scenario (exclude, excludeId); seen: the user or "
        + "the session has had it (includeSeen=true lists it); dismissed: the user dismissed it; outsideTags: without the list's tags (tag) or with one it "
        + "leaves out (excludeTag); itself: the item a similar-items list is about; tooOld: it became available longer ago than maxAge= (or has no availableFrom).")]
    PinRefusal Reason)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description("Unavailable: the item is hidden (written with \"hidden\": true).")]
    public bool? Hidden { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description("Unavailable: the item's window opens at this time (its availableFrom).")]
    public DateTimeOffset? AvailableFrom { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description("Unavailable: the item expired at this time (its expiresAt).")]
    public DateTimeOffset? ExpiredAt { get; init; }
}

public sealed record HistoryEvent(string ItemId, string Type, DateTimeOffset Timestamp, string EventId, double? Value);

/// <summary>GET /items?title=: the items of the active version whose title holds the text, closest first.</summary>
public sealed record FoundItemsResponse(string ModelVersion, IReadOnlyList<FoundItemResponse> Items);

/// <summary>An item found by its title.</summary>
public sealed record FoundItemResponse(string Id, string Title);

/// <summary>POST /items/lookup: how many of the ids sent are in the catalogue, those items in the order sent, and the others.</summary>
public sealed record ItemLookupResponse(int Found, IReadOnlyList<ItemResponse> Items, IReadOnlyList<string> NotInCatalogue);

/// <summary>PATCH /items: how many changes were sent and made, and each item's outcome in the order sent.</summary>
public sealed record ItemChangesResponse(int Count, int Changed, IReadOnlyList<ItemChangeResult> Items);

/// <summary>
/// One item of PATCH /items: "changed" (with the item as written), "notInCatalogue", "refused" with the reason (a
/// window whose end would not be after its start once changed), or "changedSince" (the item is no longer at the
/// ifVersion the change named: nothing written, <see cref="Version"/> says the version it is at).
/// </summary>
public sealed record ItemChangeResult(string Id, string Outcome,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ItemResponse? Item = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Version = null);

/// <summary>DELETE /items/{id}: whether the item was in the catalogue (false for a repeat).</summary>
public sealed record DeletedItemResponse(string Id, bool Deleted);

/// <summary>POST /items/delete: the ids sent, how many of them were in the catalogue, and each id's answer in the order sent.</summary>
public sealed record DeletedItemsResponse(int Count, int Deleted, IReadOnlyList<DeletedItemResponse> Items);

/// <summary>DELETE /users/{id}: how many retained events were deleted (0 when the user had none stored).</summary>
public sealed record ErasedUserResponse(string UserId, long ErasedEvents);

/// <summary>POST /events/delete: how many take-backs were sent, how many events they removed, and each one's answer in the order sent.</summary>
public sealed record RemovedEventsBatchResponse(int Count, int RemovedEvents, IReadOnlyList<RemovedEventsResponse> Items);

/// <summary>Each element of POST /events/delete: a user's id and an item's (optionally a type) or an event's, as the single take-backs name them.</summary>
public sealed record EventRemovalRequest(string UserId, string? ItemId = null, string? Type = null, string? EventId = null);

/// <summary>
/// DELETE /users/{id}/items/{itemId} (with the type when one was given) and /users/{id}/events/{eventId}: how many of
/// the user's retained events were taken back (0 for a repeat, or when there were none).
/// </summary>
public sealed record RemovedEventsResponse(string UserId, int RemovedEvents,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ItemId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Type = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? EventId = null)
{
    /// <summary>The answer for <paramref name="removal"/>: what it named, and how many events it removed.</summary>
    public static RemovedEventsResponse Of(string userId, int removed, EventRemoval removal) =>
        new(userId, removed, removal.ItemId, removal.Type is { } type ? EventTypes.Name(type) : null, removal.EventId);
}

public sealed record HistoryResponse(string UserId, long TotalCount, long HistoryVersion, IReadOnlyList<HistoryEvent> Events);

public sealed record PlacementResponse(string ModelVersion, int Shard, int Row, int? DenseId);

/// <summary>
/// An item. <see cref="VectorSource"/> says where its vector in the active model comes from: "model" (a trained row),
/// "embedding" (given with the item) or "text" (the active model's projection of the item's text vector); null when
/// it is not recommendable, and <see cref="Note"/> then says why. <see cref="Available"/>: now is within the item's
/// window (from <see cref="AvailableFrom"/>, before <see cref="ExpiresAt"/>, each when given).
/// </summary>
public sealed record ItemResponse(
    string Id,
    string Title,
    string? Text,
    IReadOnlyList<string> Tags,
    bool HasEmbedding,
    bool Recommendable,
    bool Hidden,
    PlacementResponse? Placement,
    DateTimeOffset? UpdatedAt,
    bool HasTextVector = false,
    string? VectorSource = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Note = null,
    DateTimeOffset? AvailableFrom = null,
    DateTimeOffset? ExpiresAt = null,
    bool Available = true,
    [property: System.ComponentModel.Description("The item's version, its ETag without the quotes (a string: it passes the integers a JSON number holds exactly); "
        + "If-Match on /items/{id} and ifVersion in PATCH /items take it.")] string? Version = null)
{
    public static ItemResponse From(ItemView view, ModelInfo? active = null)
    {
        var p = view.Placement;
        var hidden = view.Details.Hidden;
        var (availableFrom, expiresAt, now) = (view.Details.AvailableFrom, view.Details.ExpiresAt, DateTimeOffset.UtcNow);
        var expired = expiresAt <= now;
        var early = availableFrom > now;
        return new ItemResponse(view.Details.Id, view.Details.Title, view.Details.Text, view.Details.Tags, view.Details.Embedding is not null,
            p is not null && !hidden && !expired && !early, hidden,
            p is null ? null : new PlacementResponse(p.ModelVersion, p.Shard, p.Row, p.DenseId > 0 ? p.DenseId : null),
            view.UpdatedAt == DateTimeOffset.MinValue ? null : view.UpdatedAt,
            view.HasTextVector,
            p is null ? null : p.FromText ? "text" : p.DenseId > 0 ? "model" : "embedding",
            hidden ? "Hidden: kept in the catalogue and read in histories, but never recommended; write it again without \"hidden\": true to show it."
                : expired ? $"Expired at {expiresAt:O}: kept in the catalogue and read in histories, but no longer recommended; write it again with a later \"expiresAt\", or without one, to show it."
                : p is null ? WhyNotRecommendable(view, active)
                : early ? $"Available from {availableFrom:O}: placed, and recommended from then on."
                : null,
            availableFrom,
            expiresAt,
            !expired && !early,
            ItemVersion.Of(view.UpdatedAt).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static string WhyNotRecommendable(ItemView view, ModelInfo? active)
    {
        if (active is null) return "No model is active.";
        if (view.Details.Embedding is { } e && e.Length != active.Dimension * sizeof(float))
            return $"Its embedding has {e.Length / sizeof(float)} values; the active model '{active.Version}' has dimension {active.Dimension}.";
        if (!active.TextProjection)
            return $"The active model '{active.Version}' was not trained on this item and has no text projection: give an embedding of dimension {active.Dimension}, "
                + (view.HasTextVector ? "or activate a version with a text projection (the item's text vector is kept and will be projected)." : "or activate a version with a text projection.");
        return view.HasTextVector
            ? $"The item could not be placed under '{active.Version}'."
            : $"The item has no text vector and no embedding: write it again (PUT /items/{{id}}) to have its text encoded, unless text encoding is disabled, or give an embedding of dimension {active.Dimension}.";
    }
}

public sealed record ItemsResponse(int Count, IReadOnlyList<ItemResponse> Items);

/// <summary>Request shapes, for the OpenAPI document (bodies are read and validated by hand; a field not listed is refused).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record EventRequest(string UserId, string ItemId, string Type, DateTimeOffset? Timestamp = null, string? EventId = null,
    [property: Description("A rating's stars, or the amount a purchase paid (0 or more, in the shop's one currency: A/B tests sum it as revenue per list); no other type of event carries one.")]
    double? Value = null);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ItemRequest(string Title, string? Id = null, string? Text = null, IReadOnlyList<string>? Tags = null, float[]? Embedding = null,
    [property: System.ComponentModel.Description("Keep the item but never recommend it (out of stock, withdrawn); false or absent shows it.")] bool Hidden = false,
    [property: System.ComponentModel.Description("When the item may first be recommended (an ISO-8601 date-time, UTC unless an offset is given, or Unix seconds): a release written ahead of its day is placed at once and recommended from then on. Absent: at once; each write replaces it.")]
    DateTimeOffset? AvailableFrom = null,
    [property: System.ComponentModel.Description("When the item stops being recommended (an ISO-8601 date-time, UTC unless an offset is given, or Unix seconds; past or future, later than availableFrom): a story, an offer or an event that ends. It stays in the catalogue and in histories. Absent: never; each write replaces it.")]
    DateTimeOffset? ExpiresAt = null);

/// <summary>
/// PATCH /items/{id} and each element of PATCH /items: the fields to change, as in <see cref="ItemRequest"/>; a field left
/// out is kept, a null removes it. The id is required in a batch and, on /items/{id}, must be the path's when given.
/// </summary>
public sealed record ItemChangeRequest(string? Id = null, string? Title = null, string? Text = null, IReadOnlyList<string>? Tags = null, float[]? Embedding = null, bool? Hidden = null,
    DateTimeOffset? AvailableFrom = null, DateTimeOffset? ExpiresAt = null);

/// <summary>Each element of PATCH /items: an item's id, the fields to change as <see cref="ItemChangeRequest"/> gives them, and the version it must still be at.</summary>
public sealed record ItemBatchChangeRequest(string Id, string? Title = null, string? Text = null, IReadOnlyList<string>? Tags = null, float[]? Embedding = null, bool? Hidden = null,
    DateTimeOffset? AvailableFrom = null, DateTimeOffset? ExpiresAt = null,
    [property: System.ComponentModel.Description("The item's version as its answers give it (\"version\"): the item is changed only while still at it; otherwise "
        + "its outcome is changedSince, with the version it is at, and nothing is written for it.")] string? IfVersion = null);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record UsersRequest(
    [property: System.ComponentModel.Description("The ids of the users whose lists are wanted, each once (an integer is taken as written); 1 to 1,000.")]
    IReadOnlyList<string> Users);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record SessionRequest(
    [property: System.ComponentModel.Description("The ids of the items the session has had, oldest first, each in the catalogue unless unknownItems is \"accept\" (an integer is taken as written); [] for none yet.")]
    IReadOnlyList<string> Items,
    [property: System.ComponentModel.Description("A stable id of the anonymous visitor (a first-party cookie's value), which puts the session on one side of a candidate version (an A/B test) as a user's id puts the user: the same id, the same side. Absent: the active version serves.")]
    string? VisitorId = null,
    [property: System.ComponentModel.Description("\"refuse\" (the default): an item not in the catalogue is an error naming it, and nothing is ranked. \"accept\": such items (a story deleted since the visitor read it) stay in the history, as in a stored user's (the model reads those it was trained on), and the answer's notInCatalogue names them.")]
    string? UnknownItems = null);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ScenarioRequest(
    [property: System.ComponentModel.Description("Only items carrying one of these tags (as tag=, repeatable); a request's own tag= replaces them.")]
    IReadOnlyList<string>? Tag = null,
    [property: System.ComponentModel.Description("Never items carrying one of these tags (as excludeTag=); a request's own add to them.")]
    IReadOnlyList<string>? ExcludeTag = null,
    [property: System.ComponentModel.Description("Item ids never listed under the scenario (at most 100: a placement's block list); a request's own exclude= and excludeId= add to them.")]
    IReadOnlyList<string>? Exclude = null,
    [property: System.ComponentModel.Description("TAG:FACTOR entries (as boost=, such as \"sale:2\"); a request's own boost of a tag replaces the scenario's of that tag.")]
    IReadOnlyList<string>? Boost = null,
    [property: System.ComponentModel.Description("TAG:COUNT entries (as cap=, such as \"sponsored:2\"); a request's own cap of a tag replaces the scenario's of that tag.")]
    IReadOnlyList<string>? Cap = null,
    [property: System.ComponentModel.Description("PREFIX:COUNT entries (as capEach=, such as \"brand::2\" or \"*:3\"); a request's own capEach of a prefix replaces the scenario's.")]
    IReadOnlyList<string>? CapEach = null,
    [property: System.ComponentModel.Description("ITEM:POSITION entries (as pin=, such as \"sku-42:1\", at most 10): the item stands at that place of every list "
        + "that may hold it; a request's own pin of an item or a position replaces the scenario's.")]
    IReadOnlyList<string>? Pin = null,
    [property: System.ComponentModel.Description("TAG:POSITION entries (as slot=, such as \"sponsored:3\", at most 10): that place of every list holds the best "
        + "item of the tag not shown above it; a request's own slot of a position replaces the scenario's. Under caps the item must fit them and counts against them; in a diverse list the picks after a slot keep apart from its item.")]
    IReadOnlyList<string>? Slot = null,
    [property: System.ComponentModel.Description("0 to 1 (as diversity=); a request's own diversity= replaces it.")]
    float? Diversity = null,
    [property: System.ComponentModel.Description("How many items the lists hold, 1 to 1,000 (as k=); a request's own k= replaces it.")]
    int? K = null,
    [property: System.ComponentModel.Description("Whether items the user already had may be listed, for a row of things to have again (as includeSeen=); a request's own replaces it.")]
    bool? IncludeSeen = null,
    [property: System.ComponentModel.Description("When the rules start to apply (an ISO-8601 date-time, UTC unless an offset is given, or Unix seconds): before it, lists read under the scenario get none of them. Absent: at once.")]
    string? ActiveFrom = null,
    [property: System.ComponentModel.Description("When the rules stop applying (as activeFrom; later than it): from then on, lists read under the scenario get none of them, as a campaign ends. Absent: never.")]
    string? ActiveUntil = null,
    [property: System.ComponentModel.Description("HALFLIFE:FACTOR (as fresh=, such as \"6h:3\"): items weigh more the more recently they became available; a request's own fresh= replaces it.")]
    string? Fresh = null,
    [property: System.ComponentModel.Description("A duration (as maxAge=, such as \"2d\"): only items that became available within it are listed; a request's own maxAge= replaces it.")]
    string? MaxAge = null);

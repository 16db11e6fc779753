using System.Text.Json.Serialization;

namespace Recommender.Abstractions;

/// <summary>
/// A candidate from a shard scan: raw similarity to the query, what the request's boosts add to it (in the same units),
/// the item's vector when the scan is for a diverse list, and which of the request's caps its tags count against: bit i
/// for a cap i of one tag, and for caps of each tag under a prefix (<see cref="TagCap.Each"/>) the item's tags they
/// cover. Candidates rank by <see cref="Relevance"/>. <see cref="ScanEnd"/> marks the last row a shard ranked for a
/// scan that left out the rows its caps certainly pass over (<see cref="ScanFilter.CapSurvivors"/>): the shard has rows
/// below it it did not rank, and it is sent whether the caps pass over it or not. <see cref="Pinned"/> marks an item the scan
/// was asked to leave out of its ranking and send after it, for a list that pins it (<see cref="ScanFilter.Pins"/>), with
/// its <see cref="Tags"/> and <see cref="AvailableFrom"/> (sent for pinned items only, which a popular list boosts and caps
/// by); a pinned item the list may
/// not hold comes last with its <see cref="Refusal"/> and nothing else scored.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.scored-item")]
public sealed record ScoredItem(
    [property: Id(0)] string ItemId,
    [property: Id(1)] string Title,
    [property: Id(2)] float Similarity,
    [property: Id(3)] byte[]? Vector = null,
    [property: Id(4)] float Boost = 0,
    [property: Id(5)] int CappedTags = 0,
    [property: Id(6)] string[]? CappedGroups = null,
    [property: Id(7)] bool ScanEnd = false,
    [property: Id(8)] bool Pinned = false,
    [property: Id(9)] string[]? Tags = null,
    [property: Id(10)] PinRefusal? Refusal = null,
    [property: Id(11)] string? Slot = null,
    [property: Id(12)] DateTimeOffset? AvailableFrom = null)
{
    /// <summary>The similarity with the boosts added: what the list is ranked and its softmax taken by.</summary>
    public float Relevance => Similarity + Boost;
}

/// <summary>
/// A ranked item: <see cref="Score"/> is the softmax over the returned candidates (of their similarities with any boosts
/// added), <see cref="Similarity"/> the item's own, without boosts; <see cref="Boost"/>, when the request's boosts
/// applied to the item, the factor its weight was multiplied by. <see cref="Because"/>, when the
/// request asked for explanations, lists the history items whose vectors are closest to this item's. <see cref="Pinned"/>
/// says the item stands where a pin of the request put it (<see cref="ItemPin"/>), not where its score would;
/// <see cref="Slot"/>, that a slot for that tag put it there (<see cref="TagSlot"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.ranked-item")]
public sealed record RankedItem(
    [property: Id(0)] string ItemId,
    [property: Id(1)] string Title,
    [property: Id(2)] double Score,
    [property: Id(3)] float Similarity,
    [property: Id(4)] IReadOnlyList<HistoryReason>? Because = null,
    [property: Id(5)] double? Boost = null,
    [property: Id(6)] bool Pinned = false,
    [property: Id(7)] string? Slot = null);

/// <summary>
/// Merchandising: <see cref="ItemId"/> stands at <see cref="Position"/> (1 for the top, counted across pages) of a list
/// that may hold it, whatever its score; the ranked items fill the other places. A list that may not hold the item (it
/// is left out, seen, hidden, not available, or lacks the list's tags) fills the place from the ranking, and a list
/// shorter than the position ends with the item.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.item-pin")]
public sealed record ItemPin([property: Id(0)] string ItemId, [property: Id(1)] int Position);

/// <summary>
/// Merchandising: <see cref="Position"/> (1 for the top, counted across pages) of a list holds the most relevant item
/// carrying <see cref="Tag"/> (ignoring case) that the list may hold and does not show above it (a sponsored place, a
/// new arrival second); when there is none, the ranking fills it. A pin of the same place takes it.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.tag-slot")]
public sealed record TagSlot([property: Id(0)] string Tag, [property: Id(1)] int Position);

/// <summary>Why a list could not hold a pinned item at its place (named in JSON as the API's answers name it).</summary>
[GenerateSerializer, Alias("recommender.pin-refusal")]
public enum PinRefusal
{
    /// <summary>No item of that id is in the catalogue under the version that ranked the list.</summary>
    [JsonStringEnumMemberName("unknown")]
    Unknown = 0,

    /// <summary>The item is hidden, expired or not yet available.</summary>
    [JsonStringEnumMemberName("unavailable")]
    Unavailable = 1,

    /// <summary>The request or its scenario excludes the item.</summary>
    [JsonStringEnumMemberName("excluded")]
    Excluded = 2,

    /// <summary>The user (or the session) has had the item, and the list leaves seen items out.</summary>
    [JsonStringEnumMemberName("seen")]
    Seen = 3,

    /// <summary>The user dismissed the item, which no list shows again.</summary>
    [JsonStringEnumMemberName("dismissed")]
    Dismissed = 4,

    /// <summary>The item lacks the list's tags (tag=) or carries a tag it leaves out (excludeTag=).</summary>
    [JsonStringEnumMemberName("outsideTags")]
    OutsideTags = 5,

    /// <summary>The item is the one a similar-items list is about.</summary>
    [JsonStringEnumMemberName("itself")]
    Itself = 6,

    /// <summary>The item became available longer ago than the list's maximum age (maxAge=), or has no time to tell.</summary>
    [JsonStringEnumMemberName("tooOld")]
    TooOld = 7,
}

/// <summary>Why no item of a slot's tag holds its place (named in JSON as the API's answers name it).</summary>
[GenerateSerializer, Alias("recommender.slot-shortfall")]
public enum SlotShortfall
{
    /// <summary>No item the list's model version serves carries the tag (a tag nothing carries, or whose items are all hidden or unavailable).</summary>
    [JsonStringEnumMemberName("noItems")]
    NoItems = 0,

    /// <summary>Every item of the tag the list may hold is shown above the place.</summary>
    [JsonStringEnumMemberName("shownAbove")]
    ShownAbove = 1,

    /// <summary>The caps keep out the items of the tag not shown above the place.</summary>
    [JsonStringEnumMemberName("capped")]
    Capped = 2,

    /// <summary>The list ends above the place.</summary>
    [JsonStringEnumMemberName("listEnded")]
    ListEnded = 3,

    /// <summary>
    /// Items carry the tag, but the list may hold none of them: its filters or exclusions, or the user's seen or dismissed
    /// items, leave them all out (and in the popular list, items never counted are not in it).
    /// </summary>
    [JsonStringEnumMemberName("noneAllowed")]
    NoneAllowed = 4,
}

/// <summary>A slot whose place falls on a page that no item of its tag holds, and why.</summary>
[GenerateSerializer, Immutable, Alias("recommender.unfilled-slot")]
public sealed record UnfilledSlot([property: Id(0)] string Tag, [property: Id(1)] int Position, [property: Id(2)] SlotShortfall Reason);

/// <summary>A pin whose place falls on a page that holds a ranked item there instead, and why.</summary>
[GenerateSerializer, Immutable, Alias("recommender.unplaced-pin")]
public sealed record UnplacedPin([property: Id(0)] string ItemId, [property: Id(1)] int Position, [property: Id(2)] PinRefusal Reason);

/// <summary>
/// The newest items a version serves, newest first: each with the time it became available (its availableFrom); pinned
/// items at their places and slots' items at theirs; the pins and slots on the page that hold no item, each with why.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.latest-items")]
public sealed record LatestItems(
    [property: Id(0)] string ModelVersion,
    [property: Id(1)] LatestItem[] Items,
    [property: Id(2)] UnplacedPin[]? UnplacedPins = null,
    [property: Id(3)] UnfilledSlot[]? UnfilledSlots = null);

/// <summary>
/// An item of <see cref="LatestItems"/>. A pinned item may have no time (<see cref="DateTimeOffset.MinValue"/>: it was
/// written without one); <see cref="Slot"/> names the tag of the slot that placed the item.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.latest-item")]
public sealed record LatestItem(
    [property: Id(0)] string ItemId,
    [property: Id(1)] string Title,
    [property: Id(2)] DateTimeOffset AvailableFrom,
    [property: Id(3)] bool Pinned = false,
    [property: Id(4)] string? Slot = null);

/// <summary>Items found by a part of their title, closest first (<see cref="FoundItem.Closeness"/>: 0 equal, 1 starting with it, 2 holding it).</summary>
[GenerateSerializer, Immutable, Alias("recommender.found-items")]
public sealed record FoundItems([property: Id(0)] string ModelVersion, [property: Id(1)] FoundItem[] Items);

/// <summary>An item of <see cref="FoundItems"/>.</summary>
[GenerateSerializer, Immutable, Alias("recommender.found-item")]
public sealed record FoundItem([property: Id(0)] string ItemId, [property: Id(1)] string Title, [property: Id(2)] int Closeness);

/// <summary>A history item that explains a recommendation, with the cosine similarity of the two items' vectors.</summary>
[GenerateSerializer, Immutable, Alias("recommender.history-reason")]
public sealed record HistoryReason(
    [property: Id(0)] string ItemId,
    [property: Id(1)] string Title,
    [property: Id(2)] float Similarity);

/// <summary>How a list was produced.</summary>
[GenerateSerializer, Alias("recommender.ranking-source")]
public enum RankingSource
{
    /// <summary>The user's interest vector from the sequence model, scored against the item vectors.</summary>
    Model = 0,

    /// <summary>No usable history: the most popular items.</summary>
    Popularity = 1,

    /// <summary>Nearest neighbours of an item's vector.</summary>
    Similarity = 2,
}

/// <summary>
/// A list as answered: its items, the version that ranked them, how, and whether the query vector was cached.
/// <see cref="UnplacedPins"/> names the pinned items whose places fall on this page that the list could not hold (their
/// places hold ranked items), top place first, each with the reason; null when there are none. <see cref="UnfilledSlots"/>
/// names the slots whose places fall on this page that no item of their tag filled (the ranking filled them, or the list
/// ended above them), top place first, each with the reason; null when there are none.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.ranking")]
public sealed record Ranking(
    [property: Id(0)] IReadOnlyList<RankedItem> Items,
    [property: Id(1)] string ModelVersion,
    [property: Id(2)] RankingSource Source,
    [property: Id(3)] bool Cached,
    // Id(4) held the unplaced pins' ids alone; a silo of that release sends them under it, which this one ignores.
    [property: Id(5)] UnplacedPin[]? UnplacedPins = null,
    [property: Id(6)] UnfilledSlot[]? UnfilledSlots = null);

/// <summary>Requests a front end may let through (0: none now), and when the next one will be there.</summary>
[GenerateSerializer, Immutable, Alias("recommender.rate-lease")]
public sealed record RateLease([property: Id(0)] int Granted, [property: Id(1)] TimeSpan RetryAfter);

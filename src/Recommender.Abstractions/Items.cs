namespace Recommender.Abstractions;

/// <summary>
/// Catalogue details of an item. <see cref="Embedding"/> is an optional float32 vector of the active model's
/// dimension, carried as little-endian bytes so that it crosses grain boundaries as one block. <see cref="TextVector"/>
/// is the frozen sentence encoder's vector of the item's composed text (float32 bytes), kept so that every model
/// version with a text projection can turn it into an item vector. A <see cref="Hidden"/> item stays in the catalogue
/// and in histories (the model still reads it) but is never recommended: out of stock, withdrawn, not yet released.
/// Outside its window, before <see cref="AvailableFrom"/> or from <see cref="ExpiresAt"/> on (each when given), it
/// counts as hidden: a release not out yet; a news story, an offer, an event that has passed.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.item-details")]
public sealed record ItemDetails(
    [property: Id(0)] string Id,
    [property: Id(1)] string Title,
    [property: Id(2)] string? Text,
    [property: Id(3)] IReadOnlyList<string> Tags,
    [property: Id(4)] byte[]? Embedding = null,
    [property: Id(5)] byte[]? TextVector = null,
    [property: Id(6)] bool Hidden = false,
    [property: Id(7)] DateTimeOffset? ExpiresAt = null,
    [property: Id(8)] DateTimeOffset? AvailableFrom = null)
{
    /// <summary>Why a window cannot be an item's (its end not after its start), or null when it can; the message names <c>expiresAt</c>.</summary>
    public static string? WindowProblem(DateTimeOffset? availableFrom, DateTimeOffset? expiresAt) =>
        availableFrom >= expiresAt ? $"'expiresAt' {expiresAt:O} must be later than 'availableFrom' {availableFrom:O}." : null;
}

/// <summary>
/// A change of some of an item's details (PATCH /items/{id}, a JSON merge patch): a field given replaces the item's,
/// and for the optional ones a removal is a <c>Changes…</c> flag with a null value. Title, tags, embedding and hidden
/// are replaced when not null (tags removed are an empty list; an embedding is never removed).
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.item-change")]
public sealed record ItemChange(
    [property: Id(0)] string? Title = null,
    [property: Id(1)] bool ChangesText = false,
    [property: Id(2)] string? Text = null,
    [property: Id(3)] IReadOnlyList<string>? Tags = null,
    [property: Id(4)] byte[]? Embedding = null,
    [property: Id(5)] bool? Hidden = null,
    [property: Id(6)] bool ChangesAvailableFrom = false,
    [property: Id(7)] DateTimeOffset? AvailableFrom = null,
    [property: Id(8)] bool ChangesExpiresAt = false,
    [property: Id(9)] DateTimeOffset? ExpiresAt = null)
{
    /// <summary>
    /// What a write of the changed item takes: the item with this change made, without its vectors unless the change
    /// gives an embedding (a write keeps the stored embedding, and keeps or encodes again the text vector).
    /// </summary>
    public ItemDetails ToWrite(ItemDetails item) => item with
    {
        Title = Title ?? item.Title,
        Text = ChangesText ? Text : item.Text,
        Tags = Tags ?? item.Tags,
        Embedding = Embedding,
        TextVector = null,
        Hidden = Hidden ?? item.Hidden,
        AvailableFrom = ChangesAvailableFrom ? AvailableFrom : item.AvailableFrom,
        ExpiresAt = ChangesExpiresAt ? ExpiresAt : item.ExpiresAt,
    };
}

/// <summary>
/// What a change of an item did: the item as written, or why it was refused (a window whose end is not after its
/// start once the change is made); <see cref="Found"/> is false for an item not in the catalogue.
/// <see cref="PreconditionFailed"/> says the item was not as an <see cref="ItemPrecondition"/> asked, nothing written;
/// <see cref="StoredAt"/> is then the version it was at (null when it was not stored).
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.item-change-outcome")]
public sealed record ItemChangeOutcome(
    [property: Id(0)] bool Found,
    [property: Id(1)] ItemView? View = null,
    [property: Id(2)] string? Refusal = null,
    [property: Id(3)] bool PreconditionFailed = false,
    [property: Id(4)] DateTimeOffset? StoredAt = null);

/// <summary>
/// What must hold for a write of one item to be made (HTTP If-Match and If-None-Match on /items/{id}): the item stored
/// at one of <see cref="Versions"/> (<see cref="ItemVersion"/> numbers, its ETags; null: at any), and stored at all
/// (<see cref="Exists"/> true: If-Match: *) or not yet (false: If-None-Match: *, create only). So that an edit made
/// against what one client read is not written over another client's change made since.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.item-precondition")]
public sealed record ItemPrecondition(
    [property: Id(0)] long[]? Versions = null,
    [property: Id(1)] bool? Exists = null)
{
    public static readonly ItemPrecondition None = new();

    /// <summary>Whether an item stored at <paramref name="storedAt"/> (null: not stored) meets it.</summary>
    public bool HeldBy(DateTimeOffset? storedAt) =>
        (Versions is null || storedAt is { } at && Versions.Contains(ItemVersion.Of(at))) && (Exists is not { } must || must == storedAt is not null);
}

/// <summary>
/// The version of an item, its ETag: the time its details were last written (by PUT, PATCH or a bulk load) in ticks,
/// which every write of the item moves on, since its writes run one at a time.
/// </summary>
public static class ItemVersion
{
    public static long Of(DateTimeOffset updatedAt) => updatedAt.UtcTicks;
}

/// <summary>
/// What a deletion of one item did: whether it held details (<see cref="Deleted"/>), or, when an
/// <see cref="ItemPrecondition"/> did not hold, nothing (<see cref="PreconditionFailed"/>, with the version it was at).
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.item-deletion")]
public sealed record ItemDeletion(
    [property: Id(0)] bool Deleted,
    [property: Id(1)] bool PreconditionFailed = false,
    [property: Id(2)] DateTimeOffset? StoredAt = null);

/// <summary>
/// Where an item's vector lives for a model version: its shard and row, its dense id if the model was trained on
/// it, and whether its vector is the model's text projection of the item's text.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.item-placement")]
public sealed record ItemPlacement(
    [property: Id(0)] string ModelVersion,
    [property: Id(1)] int Shard,
    [property: Id(2)] int Row,
    [property: Id(3)] int DenseId,
    [property: Id(4)] bool FromText = false);

/// <summary>
/// An item as the catalogue knows it, with its placement when it is recommendable. <see cref="Details"/> never
/// carries the text vector (it stays in the cluster); <see cref="HasTextVector"/> says whether there is one.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.item-view")]
public sealed record ItemView(
    [property: Id(0)] ItemDetails Details,
    [property: Id(1)] ItemPlacement? Placement,
    [property: Id(2)] DateTimeOffset UpdatedAt,
    [property: Id(3)] bool HasTextVector = false);

/// <summary>
/// One row handed to a shard: external id, title, tags (for filtered scans) and (for items outside the model's
/// vocabulary or with a new vector) the vector bytes. <see cref="TextVector"/> is the item's raw text vector, carried
/// so that the next version can project it again; <see cref="Projected"/> says that <see cref="Vector"/> is this
/// version's projection of it (and not an explicit embedding). <see cref="AvailableFrom"/> and <see cref="ExpiresAt"/> are the
/// item's availability window as written, for the catalogue, which keeps it; a shard's row keeps only
/// <see cref="AvailableFrom"/>, so that no scan returns the item before then.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.shard-entry")]
public sealed record ShardEntry(
    [property: Id(0)] string ItemId,
    [property: Id(1)] string Title,
    [property: Id(2)] byte[]? Vector,
    [property: Id(3)] IReadOnlyList<string>? Tags = null,
    [property: Id(4)] byte[]? TextVector = null,
    [property: Id(5)] bool Projected = false,
    [property: Id(6)] DateTimeOffset? ExpiresAt = null,
    [property: Id(7)] DateTimeOffset? AvailableFrom = null)
{
    /// <summary>The entry a write of <paramref name="item"/> hands the catalogue: its vectors, tags and window.</summary>
    public static ShardEntry Written(ItemDetails item) =>
        new(item.Id, item.Title, item.Embedding, item.Tags, item.TextVector, ExpiresAt: item.ExpiresAt, AvailableFrom: item.AvailableFrom);
}

/// <summary>Stored vectors of some items in one shard: ids, titles and the vectors row after row (float32 bytes).</summary>
[GenerateSerializer, Immutable, Alias("recommender.shard-vectors")]
public sealed record ShardVectors(
    [property: Id(0)] string[] ItemIds,
    [property: Id(1)] string[] Titles,
    [property: Id(2)] byte[] Vectors);

/// <summary>An item's bulk-loaded details and when they were imported, so that the newer of a bulk load and a PUT wins.</summary>
[GenerateSerializer, Immutable, Alias("recommender.bulk-item")]
public sealed record BulkItem([property: Id(0)] ItemDetails Details, [property: Id(1)] DateTimeOffset ImportedAt);

using Recommender.Abstractions;

namespace Recommender.Grains.Catalogue;

/// <summary>Shard and row of an item that was added after the active model was trained, and whether its vector is the projection of its text.</summary>
[GenerateSerializer, Immutable, Alias("recommender.added-placement")]
public sealed record AddedPlacement([property: Id(0)] int Shard, [property: Id(1)] int Row, [property: Id(2)] bool FromText = false);

/// <summary>The persisted state of the catalogue grain.</summary>
[GenerateSerializer, Alias("recommender.catalogue-state")]
public sealed class CatalogueState
{
    [Id(0)] public ActiveModel? Model { get; set; }

    [Id(1)] public List<PopularItem> Popular { get; set; } = [];

    [Id(2)] public bool Seeded { get; set; }

    [Id(3)] public int ItemCount { get; set; }

    [Id(4)] public long Revision { get; set; }

    /// <summary>
    /// Placements of items outside the active model's vocabulary, as earlier releases kept them. They are now rows of
    /// their own (<see cref="IGrainRowStore"/>); this copy is left as it was at the upgrade, for a rollback.
    /// </summary>
    [Id(5)] public Dictionary<string, AddedPlacement> Added { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Rows per shard of the active version, as earlier releases kept them; now counted from the placements.</summary>
    [Id(6)] public int[] ShardRows { get; set; } = [];

    /// <summary>Every registered model version, by version.</summary>
    [Id(7)] public Dictionary<string, ModelInfo> Models { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Previously active versions, most recent last: where a rollback goes.</summary>
    [Id(8)] public List<string> PreviousVersions { get; set; } = [];

    /// <summary>
    /// Items whose raw text vector is stored (in the item grain), as earlier releases kept them. They are now rows of
    /// their own; this copy is left as it was at the upgrade, for a rollback.
    /// </summary>
    [Id(9)] public HashSet<string> TextItems { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Items kept in the catalogue but never recommended (under any version), e.g. out of stock, as earlier releases
    /// kept them. They are now rows of their own; this copy is left as it was at the upgrade, for a rollback.
    /// </summary>
    [Id(10)] public HashSet<string> Hidden { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Set once <see cref="Added"/> and <see cref="TextItems"/> are in rows. An earlier release does not know the field
    /// and drops it when it writes the state, so after a rollback the next upgrade copies them again.
    /// </summary>
    [Id(11)] public bool RowsCopied { get; set; }

    /// <summary>Set once <see cref="Hidden"/> is in rows; after a rollback, as <see cref="RowsCopied"/>.</summary>
    [Id(12)] public bool HiddenInRows { get; set; }

    /// <summary>Versions deleted from the registry; their names are not registered again.</summary>
    [Id(13)] public HashSet<string> DeletedVersions { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The version served to a share of the users beside <see cref="Model"/>, if any.</summary>
    [Id(14)] public ModelCandidate? Candidate { get; set; }
}

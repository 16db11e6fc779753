using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Recommender.Model.Packaging;

/// <summary>
/// Describes a model package: what the encoder expects and produces, and how its item vectors are scored.
/// Stored as manifest.json beside encoder.onnx and item_embeddings.bin.
/// </summary>
public sealed record ModelManifest
{
    public const int CurrentFormat = 1;

    /// <summary>Package format revision; readers reject formats they do not know.</summary>
    public int Format { get; init; } = CurrentFormat;

    /// <summary>Unique version name, e.g. "sasrec-ml1m-20261127T1800". Safe as a file name.</summary>
    public required string Version { get; init; }

    /// <summary>Model family, e.g. "sasrec" or "recency-mean".</summary>
    public required string Kind { get; init; }

    /// <summary>Length of the interest vector and of every item vector.</summary>
    public required int Dimension { get; init; }

    /// <summary>Sequence length the encoder takes: histories are left-padded with 0 (or truncated to their most recent items).</summary>
    public required int MaxLength { get; init; }

    /// <summary>How a user vector is compared with item vectors: "dot" (as trained) or "cosine" (vectors normalised).</summary>
    public string Similarity { get; init; } = SimilarityKinds.Dot;

    /// <summary>External id of dense item i + 1 at index i; the encoder's input ids and the embedding rows follow this order.</summary>
    public required IReadOnlyList<string> ItemIds { get; init; }

    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The configuration that produced the model (free-form, for reproducibility).</summary>
    public JsonObject? Training { get; init; }

    /// <summary>Validation or test metrics recorded at export, e.g. "val NDCG@10".</summary>
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }

    /// <summary>
    /// What an item vector is made of: "id" (a learned row per item), "text" (a learned projection of the item's frozen
    /// text vector) or "id+text" (their sum). Manifests written before this field existed are "id".
    /// </summary>
    public string ItemRepresentation { get; init; } = ItemRepresentations.Id;

    /// <summary>Name of the frozen sentence encoder that produced the text vectors (e.g. "all-MiniLM-L6-v2"); null for "id".</summary>
    public string? TextEncoder { get; init; }

    /// <summary>Width of the frozen text vectors read by text_projection.onnx; 0 when the model uses no text.</summary>
    public int TextDimension { get; init; }

    /// <summary>How an item's catalogue fields were composed into the encoded text; null for "id".</summary>
    public string? TextTemplate { get; init; }

    [JsonIgnore]
    public int ItemCount => ItemIds.Count;
}

public static class ItemRepresentations
{
    public const string Id = "id";
    public const string Text = "text";
    public const string IdAndText = "id+text";

    public static readonly IReadOnlyList<string> All = [Id, Text, IdAndText];

    /// <summary>True when item vectors include a projection of text vectors.</summary>
    public static bool UsesText(string representation) => representation is Text or IdAndText;

    /// <summary>True when item vectors include a learned per-item row.</summary>
    public static bool UsesId(string representation) => representation is Id or IdAndText;
}

public static class SimilarityKinds
{
    public const string Dot = "dot";
    public const string Cosine = "cosine";
}

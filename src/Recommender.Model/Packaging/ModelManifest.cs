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

    [JsonIgnore]
    public int ItemCount => ItemIds.Count;
}

public static class SimilarityKinds
{
    public const string Dot = "dot";
    public const string Cosine = "cosine";
}

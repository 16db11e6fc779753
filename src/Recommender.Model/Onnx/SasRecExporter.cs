using System.Text.Json.Nodes;
using Recommender.Model.Packaging;
using Recommender.Model.Sasrec;

namespace Recommender.Model.Onnx;

/// <summary>
/// Turns a trained <see cref="SasRecModel"/> into a serving package: the ONNX encoder and the scoring table (item_emb rows
/// 1..N, or out_emb's with a separate output table), scored by dot product; a model that scores by cosine ships unit-length rows and an encoder whose output is
/// already divided by its length and the temperature, so the dot product is the training logit. A model that reads item
/// text also ships text_projection.onnx.
/// </summary>
public static class SasRecExporter
{
    public const string Kind = "sasrec";

    public static ModelPackage Export(SasRecModel model, IReadOnlyList<string> itemIds, string version, JsonObject? training, IReadOnlyDictionary<string, double>? metrics)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(itemIds);
        var config = model.Config;
        if (itemIds.Count != config.ItemCount)
            throw new ArgumentException($"{itemIds.Count} item ids given for a model of {config.ItemCount} items.", nameof(itemIds));
        var encoder = new SasRecGraph(config, name => model.Get(name).Data).Build();
        var embeddings = model.ItemEmbeddings();
        var manifest = new ModelManifest
        {
            Version = version,
            Kind = Kind,
            Dimension = config.Dimension,
            MaxLength = config.MaxLength,
            Similarity = SimilarityKinds.Dot,
            ItemIds = itemIds.ToArray(),
            Training = training ?? Describe(config),
            Metrics = metrics,
            ItemRepresentation = config.ItemRepresentation,
            TextEncoder = config.TextEncoder,
            TextDimension = config.TextDimension,
            TextTemplate = config.TextTemplate,
        };
        // item_embeddings.bin already holds the final vectors (id + projected text); the projection scores new items.
        var projection = model.Representation is null ? null : Text.TextProjectionGraph.Build(
            model.Get(ItemRepresentation.WeightName).Data, model.Get(ItemRepresentation.BiasName).Data, config.TextDimension, config.Dimension);
        return new ModelPackage(manifest, encoder, embeddings, projection);
    }

    /// <summary>The architecture a package records when the caller gives no training description of its own.</summary>
    internal static JsonObject Describe(SasRecConfig config) => new()
    {
        ["dimension"] = config.Dimension,
        ["blocks"] = config.Blocks,
        ["heads"] = config.Heads,
        ["feedForwardDimension"] = config.FeedForwardDimension,
        ["preNorm"] = config.PreNorm,
        ["normalisedResidual"] = config.NormalisedResidual,
        ["positionsFromStart"] = config.PositionsFromStart,
        ["separateOutputEmbedding"] = config.SeparateOutputEmbedding,
        ["recencyBias"] = config.RecencyBias,
        ["gatedResidual"] = config.GatedResidual,
        ["activation"] = config.Activation,
        ["temperature"] = config.Temperature,
    };
}

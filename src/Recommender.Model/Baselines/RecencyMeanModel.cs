using System.Text.Json.Nodes;
using Onnx;
using Recommender.Model.Data;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;

namespace Recommender.Model.Baselines;

/// <summary>
/// A transformer-free baseline package: the user vector is the recency-weighted mean of the PMI-SVD vectors of
/// the items in the history (weight decay^(age)), normalised to unit length and scored by cosine.
/// Builds in seconds, so a cluster can serve it before any transformer has been trained.
/// </summary>
public static class RecencyMeanModel
{
    public const string Kind = "recency-mean";

    /// <summary>Keeps the weighted mean finite for an all-padding row.</summary>
    internal const float Epsilon = 1e-12f;

    /// <summary>Default decay, chosen on the ml-1m validation split (0.5 beat 0.3, 0.7 and 0.9 on NDCG@10).</summary>
    public const float DefaultRecencyDecay = 0.5f;

    /// <param name="dimension">
    /// Item vector length: smaller than the number of items (see <see cref="PmiSvdEmbeddings"/>), at most
    /// <see cref="ModelLimits.MaxDimension"/>, and the item table (items + 1) × dimension at most <see cref="ModelLimits.MaxTensorElements"/> values.
    /// </param>
    /// <param name="maxLength">Most recent items the encoder reads: 1..<see cref="ModelLimits.MaxSequenceLength"/>.</param>
    /// <param name="recencyDecay">Weight ratio between consecutive history positions, in (0, 1].</param>
    public static ModelPackage Build(SequenceDataset data, string version, int dimension = 64, int maxLength = 200, float recencyDecay = DefaultRecencyDecay, int seed = 42)
    {
        ArgumentNullException.ThrowIfNull(data);
        ModelLimits.CheckSize(dimension, nameof(dimension), ModelLimits.MaxDimension);
        ModelLimits.CheckSize(maxLength, nameof(maxLength), ModelLimits.MaxSequenceLength);
        ModelLimits.CheckTensor("item table (items + 1) x dimension", data.ItemCount + 1L, dimension);
        OptionRange.Factor.Check(recencyDecay, nameof(recencyDecay));
        if (data.ItemCount == 0) throw new ArgumentException("The data set has no items.", nameof(data));
        const int window = 5;
        var embeddings = PmiSvdEmbeddings.Compute(data, dimension, window, seed);
        var encoder = BuildEncoder(embeddings, data.ItemCount, dimension, maxLength, recencyDecay);
        var manifest = new ModelManifest
        {
            Version = version,
            Kind = Kind,
            Dimension = dimension,
            MaxLength = maxLength,
            Similarity = SimilarityKinds.Cosine,
            ItemIds = data.ItemIds.ToArray(),
            Training = new JsonObject
            {
                ["method"] = "ppmi-svd item vectors, recency-weighted mean",
                ["window"] = window,
                ["contextSmoothing"] = 0.75,
                ["recencyDecay"] = recencyDecay,
                ["seed"] = seed,
                ["users"] = data.UserCount,
                ["interactions"] = data.InteractionCount,
            },
        };
        return new ModelPackage(manifest, encoder, embeddings);
    }

    /// <summary>Recency weight of window position p (most recent item at maxLength - 1).</summary>
    public static float[] PositionWeights(int maxLength, float recencyDecay) =>
        Enumerable.Range(0, maxLength).Select(p => MathF.Pow(recencyDecay, maxLength - 1 - p)).ToArray();

    /// <summary>
    /// item_ids [batch, L] → Gather (row 0 = padding) → × (decay weights · non-padding mask) → sum over positions
    /// / (sum of weights + ε) → L2 normalised user_vector [batch, D].
    /// </summary>
    internal static byte[] BuildEncoder(float[] itemEmbeddings, int itemCount, int dimension, int maxLength, float recencyDecay)
    {
        var g = new OnnxGraphBuilder(Kind);
        g.AddInput(ModelPackage.EncoderInput, TensorProto.Types.DataType.Int64, "batch", maxLength);
        var table = new float[(itemCount + 1) * dimension];
        itemEmbeddings.AsSpan().CopyTo(table.AsSpan(dimension));
        g.AddInitializer("item_table", table, itemCount + 1, dimension);
        g.AddInitializer("position_weights", PositionWeights(maxLength, recencyDecay), maxLength);
        g.AddInitializer("zero_id", [0L]);
        g.Scalar("epsilon", Epsilon);
        g.Int64s("axis_positions", 1);
        g.Int64s("axis_last", -1);

        var vectors = g.Node("Gather", ["item_table", ModelPackage.EncoderInput], "item_vectors", ("axis", 0L));
        var present = g.Node("Greater", [ModelPackage.EncoderInput, "zero_id"], "present");
        var mask = g.Node("Cast", [present], "mask", ("to", (long)TensorProto.Types.DataType.Float));
        var weights = g.Node("Mul", [mask, "position_weights"], "weights");
        var weights3 = g.Node("Unsqueeze", [weights, "axis_last"], "weights_3d");
        var weighted = g.Node("Mul", [vectors, weights3], "weighted_vectors");
        var sum = g.Node("ReduceSum", [weighted, "axis_positions"], "weighted_sum", ("keepdims", 0L));
        var weightSum = g.Node("ReduceSum", [weights, "axis_positions"], "weight_sum", ("keepdims", 1L));
        var denominator = g.Node("Add", [weightSum, "epsilon"], "weight_sum_eps");
        var mean = g.Node("Div", [sum, denominator], "weighted_mean");
        L2Normalise(g, mean, "epsilon", ModelPackage.EncoderOutput);
        g.AddOutput(ModelPackage.EncoderOutput, TensorProto.Types.DataType.Float, "batch", dimension);
        return g.ToBytes();
    }

    /// <summary>x / max(‖x‖, ε) over the last axis, with ε the named scalar initializer; a zero row stays zero.</summary>
    internal static string L2Normalise(OnnxGraphBuilder g, string x, string epsilon, string output)
    {
        var squares = g.Node("ReduceSumSquare", [x], null, ("axes", new long[] { -1 }), ("keepdims", 1L));
        var norm = g.Node("Sqrt", [squares]);
        var safe = g.Node("Max", [norm, epsilon]);
        return g.Node("Div", [x, safe], output);
    }
}

using Onnx;
using Recommender.Model.Packaging;
using Recommender.Model.Sasrec;

namespace Recommender.Model.Onnx;

/// <summary>
/// The SASRec encoder as an ONNX graph (opset 17, standard ops), following the shared forward-pass contract:
/// embeddings × sqrt(D) + positions, masked; causal multi-head attention blocks (pre- or post-norm, pre-norm with
/// optional residual gates) with ReLU, tanh-GELU or SwiGLU feed-forward layers; final LayerNorm; the hidden state at the last position (divided by its length
/// and the temperature when the model scores by cosine).
/// </summary>
/// <remarks>
/// Only the last position reaches the output, so the final block computes its query, residual and
/// feed-forward path for that position alone (keys and values still span the window); the result is
/// the same as running the block on every position and slicing afterwards.
/// </remarks>
internal sealed class SasRecGraph(SasRecConfig config, Func<string, float[]> weights)
{
    private const float MaskedScore = -1e9f;
    private const float LayerNormEpsilon = 1e-5f;

    private readonly OnnxGraphBuilder _g = new("sasrec");
    private int D => config.Dimension;
    private int L => config.MaxLength;

    public byte[] Build()
    {
        config.Validate();
        var ids = ModelPackage.EncoderInput;
        _g.AddInput(ids, TensorProto.Types.DataType.Int64, "batch", L);
        _g.AddInitializer("zero_id", [0L]);
        _g.Scalar("zero", 0f);
        _g.Scalar("masked", MaskedScore);
        _g.Int64s("axis_last", -1);
        _g.Int64s("axis_1", 1);
        _g.Int64s("axes_1_2", 1, 2);
        _g.Int64s("split_heads", 0, 0, config.Heads, D / config.Heads);
        _g.Int64s("merge_heads", 0, 0, D);
        _g.Int64s("last_start", L - 1);
        _g.Int64s("last_end", L);
        if (config.Activation == "swiglu")
        {
            _g.Int64s("swiglu_start", 0L);
            _g.Int64s("swiglu_middle", config.FeedForwardDimension);
            _g.Int64s("swiglu_end", config.FeedForwardInputWidth);
        }

        // Masks: m [B, L, 1] zeroes padded positions; the additive score mask [B, 1, L, L] hides future and padded keys.
        var present = _g.Node("Greater", [ids, "zero_id"], "present");
        var m = _g.Node("Unsqueeze", [_g.Node("Cast", [present], "present_f", ("to", (long)TensorProto.Types.DataType.Float)), "axis_last"], "mask");
        var causal = new float[L * L];
        for (var i = 0; i < L; i++)
            for (var j = 0; j <= i; j++) causal[i * L + j] = 1;
        _g.AddInitializer("causal_f", causal, L, L);
        var causalBool = _g.Node("Cast", ["causal_f"], "causal", ("to", (long)TensorProto.Types.DataType.Bool));
        var keys = _g.Node("Unsqueeze", [present, "axes_1_2"], "key_present");
        var allowed = _g.Node("And", [causalBool, keys], "allowed");
        var scoreMask = _g.Node("Where", [allowed, "zero", "masked"], "score_mask");
        if (config.RecencyBias)
        {
            // (j − i) for query i and key j: a head's slope times it is that head's recency term −w·(i − j).
            var distance = new float[L * L];
            for (var i = 0; i < L; i++)
                for (var j = 0; j <= i; j++) distance[i * L + j] = j - i;
            // Only blocks before the last run every query row; the last one reads row L − 1 alone.
            if (config.Blocks > 1) _g.AddInitializer("recency_distance", distance, L, L);
            _g.AddInitializer("recency_distance_last", distance[((L - 1) * L)..], 1, L);
            _g.Int64s("recency_heads", config.Heads, 1, 1);
        }

        // Embedding: (item_emb[ids] * sqrt(D) + pos_emb) * m
        Weight("item_emb", config.ItemCount + 1, D);
        Weight("pos_emb", L, D);
        _g.Scalar("sqrt_d", MathF.Sqrt(D));
        var embedded = _g.Node("Gather", ["item_emb", ids], "item_vectors", ("axis", 0L));
        var x = _g.Node("Mul", [_g.Node("Add", [_g.Node("Mul", [embedded, "sqrt_d"]), Positions(present)]), m], "x_0");

        for (var b = 0; b < config.Blocks; b++)
        {
            var last = b == config.Blocks - 1;
            x = Block(b, x, m, scoreMask, last);
        }
        // After the last block x is [B, 1, D]: the last position only.
        Weight("final_ln.weight", D);
        Weight("final_ln.bias", D);
        var normed = LayerNorm(x, "final_ln");
        if (config.ScoresByCosine)
        {
            // Cosine scores: y / (max(|y|, ε) τ), so that a dot product with the unit-length item rows is the logit.
            var hidden = _g.Node("Squeeze", [normed, "axis_1"], "hidden");
            var norm = _g.Node("Max", [_g.Node("ReduceL2", [hidden], null, ("axes", new long[] { -1 }), ("keepdims", 1L)), _g.Scalar("min_norm", CosineScores.MinNorm)]);
            _g.Node("Div", [hidden, _g.Node("Mul", [norm, _g.Scalar("temperature", config.Temperature)])], ModelPackage.EncoderOutput);
        }
        else
            _g.Node("Squeeze", [normed, "axis_1"], ModelPackage.EncoderOutput);
        _g.AddOutput(ModelPackage.EncoderOutput, TensorProto.Types.DataType.Float, "batch", D);
        return _g.ToBytes();
    }

    /// <summary>
    /// The position vectors to add: the whole pos_emb table when positions count back from the window's end (a
    /// left-padded window's newest item is always at L − 1); otherwise row t − pads for column t, where pads is the
    /// row's padding count, so the oldest real item is at 0 (padded columns take row 0 and are masked anyway).
    /// </summary>
    private string Positions(string present)
    {
        if (!config.PositionsFromStart) return "pos_emb";
        _g.AddInitializer("window_columns", Enumerable.Range(0, L).Select(i => (long)i).ToArray(), L);
        _g.AddInitializer("window_length", [(long)L]);
        var count = _g.Node("ReduceSum", [_g.Node("Cast", [present], "present_i", ("to", (long)TensorProto.Types.DataType.Int64)), "axis_1"], "real_count", ("keepdims", 1L));
        var pads = _g.Node("Sub", ["window_length", count], "pads");
        var rows = _g.Node("Max", [_g.Node("Sub", ["window_columns", pads]), "zero_id"], "position_rows");
        return _g.Node("Gather", ["pos_emb", rows], "position_vectors", ("axis", 0L));
    }

    private string Block(int b, string x, string m, string scoreMask, bool lastOnly)
    {
        var p = $"blocks.{b}";
        foreach (var name in new[] { "ln1", "ln2" })
        {
            Weight($"{p}.{name}.weight", D);
            Weight($"{p}.{name}.bias", D);
        }
        foreach (var name in new[] { "q", "k", "v", "out" })
        {
            Weight($"{p}.attn.{name}.weight", D, D);
            Weight($"{p}.attn.{name}.bias", D);
        }
        Weight($"{p}.ffn.fc1.weight", D, config.FeedForwardInputWidth);
        Weight($"{p}.ffn.fc1.bias", config.FeedForwardInputWidth);
        Weight($"{p}.ffn.fc2.weight", config.FeedForwardDimension, D);
        Weight($"{p}.ffn.fc2.bias", D);

        var rows = lastOnly ? Last(x, 1) : x;
        var rowMask = lastOnly ? Last(m, 1) : m;
        var rowScoreMask = lastOnly ? Last(scoreMask, 2) : scoreMask;
        string output;
        if (config.NormalisedResidual)
        {
            var h = LayerNorm(x, $"{p}.ln1");
            var query = lastOnly ? Last(h, 1) : h;
            var attended = LayerNorm(_g.Node("Add", [query, Attention(p, query, x, rowScoreMask, lastOnly)]), $"{p}.ln2");
            output = _g.Node("Add", [attended, FeedForward(p, attended)]);
        }
        else if (config.PreNorm)
        {
            var h = LayerNorm(x, $"{p}.ln1");
            var query = lastOnly ? Last(h, 1) : h;
            var attended = _g.Node("Add", [rows, Gated(rows, Attention(p, query, h, rowScoreMask, lastOnly), $"{p}.gate1")]);
            output = _g.Node("Add", [attended, Gated(attended, FeedForward(p, LayerNorm(attended, $"{p}.ln2")), $"{p}.gate2")]);
        }
        else
        {
            var attended = LayerNorm(_g.Node("Add", [rows, Attention(p, rows, x, rowScoreMask, lastOnly)]), $"{p}.ln1");
            output = LayerNorm(_g.Node("Add", [attended, FeedForward(p, attended)]), $"{p}.ln2");
        }
        return _g.Node("Mul", [output, rowMask], $"x_{b + 1}");
    }

    /// <summary>Causal multi-head attention of <paramref name="query"/> rows over all <paramref name="context"/> positions.</summary>
    private string Attention(string p, string query, string context, string scoreMask, bool lastOnly)
    {
        var q = SplitHeads(Linear(query, $"{p}.attn.q"), [0, 2, 1, 3]);
        var kT = SplitHeads(Linear(context, $"{p}.attn.k"), [0, 2, 3, 1]);
        var v = SplitHeads(Linear(context, $"{p}.attn.v"), [0, 2, 1, 3]);
        var scale = _g.Scalar(Unique("attn_scale"), 1f / MathF.Sqrt(D / config.Heads));
        var scores = _g.Node("Add", [_g.Node("Mul", [_g.Node("MatMul", [q, kT]), scale]), scoreMask]);
        if (config.RecencyBias)
        {
            // [Heads, 1, 1] slopes times [rows, L] distances: a [Heads, rows, L] term that broadcasts over the batch.
            Weight($"{p}.attn.recency", config.Heads);
            var slopes = _g.Node("Reshape", [$"{p}.attn.recency", "recency_heads"]);
            scores = _g.Node("Add", [scores, _g.Node("Mul", [slopes, lastOnly ? "recency_distance_last" : "recency_distance"])]);
        }
        var probabilities = _g.Node("Softmax", [scores], null, ("axis", -1L));
        var heads = _g.Node("Transpose", [_g.Node("MatMul", [probabilities, v])], null, ("perm", new long[] { 0, 2, 1, 3 }));
        return Linear(_g.Node("Reshape", [heads, "merge_heads"]), $"{p}.attn.out");
    }

    /// <summary>With gated residuals, σ(stream·W + b) ⊙ branch; otherwise the branch itself.</summary>
    private string Gated(string stream, string branch, string prefix)
    {
        if (!config.GatedResidual) return branch;
        Weight($"{prefix}.weight", D, D);
        Weight($"{prefix}.bias", D);
        return _g.Node("Mul", [_g.Node("Sigmoid", [Linear(stream, prefix)]), branch]);
    }

    private string FeedForward(string p, string h)
    {
        var hidden = Linear(h, $"{p}.ffn.fc1");
        var activated = config.Activation switch
        {
            "gelu" => Gelu(hidden),
            "swiglu" => SwiGlu(hidden),
            _ => _g.Node("Relu", [hidden]),
        };
        return Linear(activated, $"{p}.ffn.fc2");
    }

    /// <summary>a ⊙ b ⊙ σ(b) for the halves [a | b] of the last axis.</summary>
    private string SwiGlu(string x)
    {
        var a = _g.Node("Slice", [x, "swiglu_start", "swiglu_middle", "axis_last"]);
        var b = _g.Node("Slice", [x, "swiglu_middle", "swiglu_end", "axis_last"]);
        return _g.Node("Mul", [a, _g.Node("Mul", [b, _g.Node("Sigmoid", [b])])]);
    }

    /// <summary>0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³))).</summary>
    private string Gelu(string x)
    {
        var half = _g.Scalar(Unique("gelu_half"), 0.5f);
        var one = _g.Scalar(Unique("gelu_one"), 1f);
        var cubic = _g.Scalar(Unique("gelu_cubic"), 0.044715f);
        var scale = _g.Scalar(Unique("gelu_scale"), MathF.Sqrt(2f / MathF.PI));
        var cube = _g.Node("Mul", [_g.Node("Mul", [x, x]), x]);
        var inner = _g.Node("Mul", [_g.Node("Add", [x, _g.Node("Mul", [cube, cubic])]), scale]);
        return _g.Node("Mul", [_g.Node("Mul", [x, half]), _g.Node("Add", [_g.Node("Tanh", [inner]), one])]);
    }

    private string SplitHeads(string x, long[] perm) =>
        _g.Node("Transpose", [_g.Node("Reshape", [x, "split_heads"])], null, ("perm", perm));

    private string Linear(string x, string prefix) =>
        _g.Node("Add", [_g.Node("MatMul", [x, $"{prefix}.weight"]), $"{prefix}.bias"]);

    private string LayerNorm(string x, string prefix) =>
        _g.Node("LayerNormalization", [x, $"{prefix}.weight", $"{prefix}.bias"], null, ("axis", -1L), ("epsilon", LayerNormEpsilon));

    /// <summary>The last position along <paramref name="axis"/>, kept as a length-1 axis.</summary>
    private string Last(string x, long axis) =>
        _g.Node("Slice", [x, "last_start", "last_end", axis == 1 ? "axis_1" : Axis(axis)]);

    private string Axis(long axis)
    {
        var name = $"axis_{axis}";
        if (!_axes.Contains(name)) { _g.Int64s(name, axis); _axes.Add(name); }
        return name;
    }

    private readonly HashSet<string> _axes = [];
    private int _unique;

    private string Unique(string prefix) => $"{prefix}_{_unique++}";

    private void Weight(string name, params int[] shape)
    {
        var data = weights(name);
        var expected = shape.Aggregate(1L, (a, s) => a * s);
        if (data.Length != expected)
            throw new ArgumentException($"Parameter '{name}' has {data.Length} values; the configuration needs [{string.Join(", ", shape)}].");
        _g.AddInitializer(name, data, shape.Select(s => (long)s).ToArray());
    }
}

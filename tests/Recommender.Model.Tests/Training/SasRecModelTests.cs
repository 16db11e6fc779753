using Recommender.Model.Nn;
using Recommender.Model.Sasrec;
using Recommender.Model.Tests.Nn;
using Recommender.Model.Training;

namespace Recommender.Model.Tests.Training;

public sealed class SasRecModelTests
{
    private static SasRecConfig Small(bool preNorm, string activation, int heads = 2, bool positionsFromStart = false, bool normalisedResidual = false) => new()
    {
        ItemCount = 12, MaxLength = 7, Dimension = 8, Heads = heads, Blocks = 2, FeedForwardDimension = 12,
        Dropout = 0.3f, PreNorm = preNorm, Activation = activation, PositionsFromStart = positionsFromStart, NormalisedResidual = normalisedResidual,
    };

    [Fact]
    public void Normalised_residual_block_equals_the_literal_contract_forward()
    {
        var model = new SasRecModel(Small(true, "relu", positionsFromStart: true, normalisedResidual: true), seed: 4);
        foreach (var p in model.Parameters.Where(p => p.Shape.Length == 1))
        {
            var noise = GradientCheck.Random(p.Data.Length, p.Name.Length + 2, 0.2);
            for (var i = 0; i < p.Data.Length; i++) p.Data[i] += noise[i];
        }
        int[][] histories = [[5], [1, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]];
        var encoded = model.Encode(histories);
        for (var h = 0; h < histories.Length; h++)
        {
            var expected = ReferenceSasRec.Encode(model, histories[h]);
            for (var j = 0; j < 8; j++)
                Assert.True(Math.Abs(expected[j] - encoded[h * 8 + j]) < 1e-4, $"history {h}, component {j}: expected {expected[j]}, got {encoded[h * 8 + j]}");
        }
        Assert.Throws<ArgumentException>(() => new SasRecModel(Small(false, "relu", normalisedResidual: true), seed: 1));
    }

    public static TheoryData<bool, string, bool> Variants => new()
    {
        { true, "relu", false }, { true, "gelu", false }, { false, "relu", false }, { false, "gelu", false }, { true, "relu", true }, { false, "gelu", true },
        { true, "swiglu", true }, { false, "swiglu", false },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Encode_equals_the_literal_contract_forward_including_padding_truncation_and_empty_histories(bool preNorm, string activation, bool positionsFromStart)
    {
        var model = new SasRecModel(Small(preNorm, activation, positionsFromStart: positionsFromStart), seed: 3);
        // Non-trivial layer-norm and bias values so that every parameter matters.
        foreach (var p in model.Parameters.Where(p => p.Shape.Length == 1))
        {
            var noise = GradientCheck.Random(p.Data.Length, p.Name.Length, 0.2);
            for (var i = 0; i < p.Data.Length; i++) p.Data[i] += noise[i];
        }
        int[][] histories = [[5], [1, 2, 3], [12, 11, 10, 9, 8, 7, 6], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [], [4, 4, 4, 4]];
        var encoded = model.Encode(histories);
        Assert.Equal(histories.Length * 8, encoded.Length);
        for (var h = 0; h < histories.Length; h++)
        {
            var expected = ReferenceSasRec.Encode(model, histories[h]);
            for (var j = 0; j < 8; j++)
                Assert.True(Math.Abs(expected[j] - encoded[h * 8 + j]) < 1e-4, $"history {h}, component {j}: expected {expected[j]}, got {encoded[h * 8 + j]}");
        }
        Assert.All(encoded.Skip(4 * 8).Take(8), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Parameters_follow_the_contract_names_shapes_and_order()
    {
        var model = new SasRecModel(Small(true, "relu") with { Blocks = 1 }, seed: 1);
        var expected = new (string, int[])[]
        {
            ("item_emb", [13, 8]), ("pos_emb", [7, 8]),
            ("blocks.0.ln1.weight", [8]), ("blocks.0.ln1.bias", [8]),
            ("blocks.0.attn.q.weight", [8, 8]), ("blocks.0.attn.q.bias", [8]),
            ("blocks.0.attn.k.weight", [8, 8]), ("blocks.0.attn.k.bias", [8]),
            ("blocks.0.attn.v.weight", [8, 8]), ("blocks.0.attn.v.bias", [8]),
            ("blocks.0.attn.out.weight", [8, 8]), ("blocks.0.attn.out.bias", [8]),
            ("blocks.0.ln2.weight", [8]), ("blocks.0.ln2.bias", [8]),
            ("blocks.0.ffn.fc1.weight", [8, 12]), ("blocks.0.ffn.fc1.bias", [12]),
            ("blocks.0.ffn.fc2.weight", [12, 8]), ("blocks.0.ffn.fc2.bias", [8]),
            ("final_ln.weight", [8]), ("final_ln.bias", [8]),
        };
        Assert.Equal(expected.Select(e => e.Item1), model.Parameters.Select(p => p.Name));
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i].Item2, model.Parameters[i].Shape);
        Assert.All(model.Parameters, p => Assert.Equal(p.Shape.Aggregate(1, (a, b) => a * b), p.Data.Length));
        Assert.All(model.Get("item_emb").Data.Take(8), v => Assert.Equal(0f, v));
        Assert.Same(model.Parameters[4], model.Get("blocks.0.attn.q.weight"));
        var missing = Assert.Throws<KeyNotFoundException>(() => model.Get("blocks.9.attn.q.weight"));
        Assert.Contains("blocks.9.attn.q.weight", missing.Message);
    }

    [Fact]
    public void Save_and_load_round_trip_every_parameter_and_the_configuration()
    {
        var model = new SasRecModel(Small(false, "gelu"), seed: 5);
        var path = Path.Combine(Path.GetTempPath(), $"sasrec-{Guid.NewGuid():N}.model");
        try
        {
            model.Save(path);
            var loaded = SasRecModel.Load(path);
            Assert.Equal(model.Config, loaded.Config);
            for (var i = 0; i < model.Parameters.Count; i++) Assert.Equal(model.Parameters[i].Data, loaded.Parameters[i].Data);
            Assert.Equal(model.Encode([[1, 2, 3]]), loaded.Encode([[1, 2, 3]]));
            File.WriteAllText(path, "not a checkpoint");
            Assert.Throws<InvalidDataException>(() => SasRecModel.Load(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Encode_rejects_ids_outside_the_catalogue()
    {
        var model = new SasRecModel(Small(true, "relu"), seed: 1);
        var error = Assert.Throws<ArgumentException>(() => model.Encode([[1, 13]]));
        Assert.Contains("13", error.Message);
        Assert.Throws<ArgumentException>(() => model.Encode([[0, 1]]));
    }

    public static TheoryData<bool, LossKind, bool> LossVariants => new()
    {
        { true, LossKind.Bce, false }, { true, LossKind.Gbce, false }, { true, LossKind.SoftmaxCrossEntropy, false }, { false, LossKind.SoftmaxCrossEntropy, false },
        { true, LossKind.SoftmaxCrossEntropy, true },
    };

    /// <summary>
    /// A small model's final hidden states over a ten-event sequence in a 7-item window: inputs are events 2..8, and
    /// the first two events only count as already had.
    /// </summary>
    internal static (SasRecConfig Config, SasRecModel Model, int[] Sequence, int Start, float[] Y) LossCase()
    {
        var config = Small(true, "relu") with { Dropout = 0f };
        var model = new SasRecModel(config, seed: 21);
        model.RefreshTransposes();
        int[] sequence = [4, 9, 1, 2, 3, 5, 6, 9, 7, 2];
        var start = sequence.Length - 1 - config.MaxLength;
        var pass = new SequencePass(config);
        var rng = SplitMix.For(1);
        pass.Forward(model, sequence.AsSpan(start, config.MaxLength), training: true, ref rng);
        return (config, model, sequence, start, pass.Output.ToArray());
    }

    /// <summary>
    /// Each position's loss is log Σ exp over the softmax's items − (1 − ε)·(target score) − ε·(mean score over those
    /// items), ε being the label smoothing. With seen items excluded the softmax runs over the items the user did not
    /// have by then (older ones than the window included) plus the target itself, even when the target is a repeat.
    /// </summary>
    [Theory]
    [InlineData(true, 0.0)]
    [InlineData(false, 0.3)]
    [InlineData(true, 0.3)]
    public void Cross_entropy_is_the_smoothed_softmax_over_the_items_not_yet_had(bool excludeSeen, double eps)
    {
        var (config, model, sequence, start, y) = LossCase();
        int rows = config.MaxLength, d = config.Dimension;

        var expected = 0.0;
        for (var r = 0; r < rows; r++)
        {
            var target = sequence[start + 1 + r];
            var had = excludeSeen ? sequence.Take(start + r + 1).ToHashSet() : [];
            var candidates = Enumerable.Range(1, config.ItemCount).Where(i => i == target || !had.Contains(i)).ToArray();
            double Score(int item) => Enumerable.Range(0, d).Sum(c => (double)y[r * d + c] * model.ItemEmbedding.Data[item * d + c]);
            expected += Math.Log(candidates.Sum(i => Math.Exp(Score(i)))) - (1 - eps) * Score(target) - eps * candidates.Average(Score);
        }

        double Loss(SequenceLoss loss)
        {
            loss.Prepare(model, SplitMix.For(0));
            var grads = model.Parameters.Select(p => new float[p.Data.Length]).ToArray();
            return loss.CreateWorker(model).Compute(y, rows, sequence.AsSpan(start + 1, rows), sequence.AsSpan(0, start + rows), [], 1f, new float[rows * d], grads);
        }

        Assert.Equal(expected, Loss(SequenceLoss.Create(LossKind.SoftmaxCrossEntropy, config.ItemCount, excludeSeen: excludeSeen, labelSmoothing: eps)), 4);
        if (excludeSeen)
            Assert.True(Loss(SequenceLoss.Create(LossKind.SoftmaxCrossEntropy, config.ItemCount, labelSmoothing: eps)) > expected + 0.1, "Leaving items out of the softmax must lower the loss.");
    }

    /// <summary>
    /// With K future targets each position's loss is Σₖ wₖ·(log Σ exp over the softmax's items − score of item t + k),
    /// wₖ = γ^(k−1) scaled to sum to 1 over the targets inside the window; with seen items excluded the softmax runs
    /// over the items not had by then plus the position's targets (repeats included).
    /// </summary>
    [Theory]
    [InlineData(false, 3, 0.5)]
    [InlineData(true, 3, 0.5)]
    [InlineData(true, 4, 1.0)]
    public void Future_targets_spread_the_cross_entropy_over_the_next_items(bool excludeSeen, int futureTargets, double decay)
    {
        var (config, model, sequence, start, y) = LossCase();
        int rows = config.MaxLength, d = config.Dimension;

        var expected = 0.0;
        for (var r = 0; r < rows; r++)
        {
            var targets = Enumerable.Range(0, Math.Min(futureTargets, rows - r)).Select(k => sequence[start + 1 + r + k]).ToArray();
            var weights = targets.Select((_, k) => Math.Pow(decay, k)).ToArray();
            var had = excludeSeen ? sequence.Take(start + r + 1).ToHashSet() : [];
            var candidates = Enumerable.Range(1, config.ItemCount).Where(i => targets.Contains(i) || !had.Contains(i)).ToArray();
            double Score(int item) => Enumerable.Range(0, d).Sum(c => (double)y[r * d + c] * model.ItemEmbedding.Data[item * d + c]);
            var logSum = Math.Log(candidates.Sum(i => Math.Exp(Score(i))));
            expected += targets.Select((t, k) => weights[k] / weights.Sum() * (logSum - Score(t))).Sum();
        }

        var loss = SequenceLoss.Create(LossKind.SoftmaxCrossEntropy, config.ItemCount, excludeSeen: excludeSeen, futureTargets: futureTargets, futureDecay: decay);
        loss.Prepare(model, SplitMix.For(0));
        var grads = model.Parameters.Select(p => new float[p.Data.Length]).ToArray();
        var actual = loss.CreateWorker(model).Compute(y, rows, sequence.AsSpan(start + 1, rows), sequence.AsSpan(0, start + rows), [], 1f, new float[rows * d], grads);
        Assert.Equal(expected, actual, 4);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Future_target_gradients_match_finite_differences(bool excludeSeen) =>
        Whole_model_gradients_match_finite_differences(true, LossKind.SoftmaxCrossEntropy, true, normalisedResidual: true, excludeSeen: excludeSeen, futureTargets: 3);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Label_smoothing_gradients_match_finite_differences(bool excludeSeen) =>
        Whole_model_gradients_match_finite_differences(true, LossKind.SoftmaxCrossEntropy, true, normalisedResidual: true, excludeSeen: excludeSeen, labelSmoothing: 0.3f);

    /// <summary>The learned recency slopes of every block, with the rest of the model, against finite differences.</summary>
    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void Recency_bias_gradients_match_finite_differences(bool normalisedResidual, bool attentionDropout) =>
        Whole_model_gradients_match_finite_differences(true, LossKind.SoftmaxCrossEntropy, true, normalisedResidual: normalisedResidual, attentionDropout: attentionDropout ? 0.3f : 0f, excludeSeen: true, recencyBias: true);

    /// <summary>The residual gates of every block (both branches, dropout on), with the rest of the model, against finite differences.</summary>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void Gated_residual_gradients_match_finite_differences(bool attentionDropout, bool recencyBias) =>
        Whole_model_gradients_match_finite_differences(true, LossKind.SoftmaxCrossEntropy, true, attentionDropout: attentionDropout ? 0.3f : 0f, excludeSeen: true, recencyBias: recencyBias, gatedResidual: true);

    /// <summary>The SwiGLU feed-forward layer (its first matrix twice the hidden width) with the rest of the model, against finite differences.</summary>
    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void SwiGlu_gradients_match_finite_differences(bool normalisedResidual, bool gatedResidual)
    {
        var model = new SasRecModel(Small(true, "swiglu") with { Blocks = 1 }, seed: 1);
        Assert.Equal([8, 24], model.Get("blocks.0.ffn.fc1.weight").Shape);
        Assert.Equal([24], model.Get("blocks.0.ffn.fc1.bias").Shape);
        Assert.Equal([12, 8], model.Get("blocks.0.ffn.fc2.weight").Shape);
        Whole_model_gradients_match_finite_differences(true, LossKind.SoftmaxCrossEntropy, true, normalisedResidual: normalisedResidual, attentionDropout: 0.3f, excludeSeen: true, gatedResidual: gatedResidual, activation: "swiglu");
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void Gated_residuals_are_refused_outside_the_plain_pre_norm_block(bool preNorm, bool normalisedResidual)
    {
        var error = Assert.Throws<ArgumentException>(() => new SasRecModel(Small(preNorm, "relu", normalisedResidual: normalisedResidual) with { GatedResidual = true }, seed: 1));
        Assert.Contains("Gated residuals apply to the plain pre-norm block only", error.Message);
    }

    /// <summary>A new model's slopes start at 0, so it begins as the model without the term; checkpoints keep them.</summary>
    [Fact]
    public void Recency_slopes_start_at_zero_and_survive_a_checkpoint()
    {
        var config = Small(true, "relu") with { RecencyBias = true };
        var model = new SasRecModel(config, seed: 3);
        var slopes = model.Parameters.Where(p => p.Name.EndsWith(".attn.recency")).ToArray();
        Assert.Equal(config.Blocks, slopes.Length);
        Assert.All(slopes, p => Assert.Equal(new float[config.Heads], p.Data));
        var plain = new SasRecModel(config with { RecencyBias = false }, seed: 3);
        int[][] histories = [[1, 2, 3, 4], [5]];
        Assert.Equal(plain.Encode(histories), model.Encode(histories));

        slopes[0].Data[0] = 0.5f;
        Assert.NotEqual(plain.Encode(histories), model.Encode(histories));
        using var scratch = new ScratchDirectory();
        var path = Path.Combine(scratch.Path, "recency.model");
        model.Save(path);
        var loaded = SasRecModel.Load(path);
        Assert.True(loaded.Config.RecencyBias);
        Assert.Equal(0.5f, loaded.Get("blocks.0.attn.recency").Data[0]);
        Assert.Equal(model.Encode(histories), loaded.Encode(histories));
    }

    [Theory]
    [InlineData(LossKind.Gbce, 0.1, "softmax cross-entropy")]
    [InlineData(LossKind.SoftmaxCrossEntropy, 1.0, "LabelSmoothing")]
    [InlineData(LossKind.SoftmaxCrossEntropy, -0.1, "LabelSmoothing")]
    [InlineData(LossKind.SoftmaxCrossEntropy, double.NaN, "LabelSmoothing")]
    public void Label_smoothing_outside_its_range_or_loss_is_refused(LossKind kind, double value, string named)
    {
        var error = Assert.Throws<ArgumentException>(() => new TrainingOptions { Loss = kind, LabelSmoothing = value }.Validate());
        Assert.Contains(named, error.Message);
    }

    [Fact]
    public void Excluding_seen_items_is_refused_for_sampled_losses()
    {
        var error = Assert.Throws<ArgumentException>(() => new TrainingOptions { Loss = LossKind.Gbce, ExcludeSeenItems = true }.Validate());
        Assert.Contains("ExcludeSeenItems", error.Message);
    }

    /// <summary>The sampled softmax (five of the twelve items, the target added; none or two of them the most frequent), against finite differences.</summary>
    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 0)]
    [InlineData(true, 2)]
    public void Sampled_softmax_gradients_match_finite_differences(bool excludeSeen, int head) =>
        Whole_model_gradients_match_finite_differences(true, LossKind.SoftmaxCrossEntropy, true, normalisedResidual: true, excludeSeen: excludeSeen, sampledItems: 5, activation: "swiglu", recencyBias: true, sampledHead: head);

    /// <summary>The cross-entropy with seen items left out of each softmax, against finite differences.</summary>
    [Fact]
    public void Excluding_seen_items_gradients_match_finite_differences() =>
        Whole_model_gradients_match_finite_differences(true, LossKind.SoftmaxCrossEntropy, true, normalisedResidual: true, excludeSeen: true);

    [Fact]
    public void Attention_weight_dropout_alone_is_active_in_training_and_leaves_evaluation_alone()
    {
        var plain = Small(true, "relu") with { Dropout = 0f };
        var withAttentionDropout = plain with { AttentionDropout = 0.5f };
        var a = new SasRecModel(plain, seed: 9);
        var b = new SasRecModel(withAttentionDropout, seed: 9);
        var loss = SequenceLoss.Create(LossKind.SoftmaxCrossEntropy, plain.ItemCount, negatives: 1, calibration: 0);
        int[][] sequences = [[1, 2, 3, 4, 5, 6, 7, 8]];
        int[][] none = [[]];
        Assert.NotEqual(WholeModelLoss.Evaluate(a, loss, sequences, none, null), WholeModelLoss.Evaluate(b, loss, sequences, none, null));
        Assert.Equal(a.Encode([[1, 2, 3, 4]]), b.Encode([[1, 2, 3, 4]]));
    }

    /// <summary>The normalised-residual block against finite differences (dropout on, attention-weight dropout on, positions from the start).</summary>
    [Fact]
    public void Normalised_residual_gradients_match_finite_differences() =>
        Whole_model_gradients_match_finite_differences(true, LossKind.SoftmaxCrossEntropy, true, normalisedResidual: true, attentionDropout: 0.3f);

    /// <summary>Cosine scores (normalised hidden state and item rows, divided by the temperature) against finite differences.</summary>
    [Fact]
    public void Cosine_score_gradients_match_finite_differences() =>
        Whole_model_gradients_match_finite_differences(true, LossKind.SoftmaxCrossEntropy, true, normalisedResidual: true, temperature: 0.2f);

    /// <summary>A separate output table (out_emb scores, item_emb only feeds the encoder) against finite differences, for each loss.</summary>
    [Theory]
    [InlineData(LossKind.SoftmaxCrossEntropy)]
    [InlineData(LossKind.Gbce)]
    [InlineData(LossKind.Bce)]
    public void Separate_output_embedding_gradients_match_finite_differences(LossKind kind) =>
        Whole_model_gradients_match_finite_differences(true, kind, true, normalisedResidual: true, excludeSeen: kind == LossKind.SoftmaxCrossEntropy, separateOutput: true);

    /// <summary>Input item dropout (some history items enter as their position alone) against finite differences.</summary>
    [Fact]
    public void Input_item_dropout_gradients_match_finite_differences() =>
        Whole_model_gradients_match_finite_differences(true, LossKind.SoftmaxCrossEntropy, true, normalisedResidual: true, excludeSeen: true, inputItemDropout: 0.4f);

    /// <summary>
    /// A dropped history item contributes nothing to the pass: with the output table separate (so item_emb is only read
    /// as input), dropping every item leaves item_emb without gradient while positions still learn; evaluation never drops.
    /// </summary>
    [Fact]
    public void Input_item_dropout_leaves_dropped_items_out_of_training_passes_only()
    {
        float[] ItemGradient(float rate)
        {
            var model = new SasRecModel(Small(true, "relu", normalisedResidual: true) with { SeparateOutputEmbedding = true, InputItemDropout = rate }, seed: 2);
            var loss = SequenceLoss.Create(LossKind.SoftmaxCrossEntropy, 12);
            var (sequences, negatives) = WholeModelLoss.SmallCase(loss);
            var grads = model.Parameters.Select(p => new float[p.Data.Length]).ToArray();
            model.RefreshTransposes();
            WholeModelLoss.Evaluate(model, loss, sequences, negatives, grads);
            Assert.Contains(grads[model.Get("pos_emb").Index], v => v != 0f);
            Assert.Contains(grads[model.Get("out_emb").Index], v => v != 0f);
            return grads[model.Get("item_emb").Index];
        }
        Assert.Contains(ItemGradient(0f), v => v != 0f);
        Assert.All(ItemGradient(0.99999f), v => Assert.Equal(0f, v));

        var plain = Small(true, "relu", normalisedResidual: true);
        var dropping = new SasRecModel(plain with { InputItemDropout = 0.5f }, seed: 3);
        var reference = new SasRecModel(plain, seed: 3);
        int[][] histories = [[1, 2, 3, 4, 5], [9]];
        Assert.Equal(reference.Encode(histories), dropping.Encode(histories));
    }

    /// <summary>The whole model (embeddings, dropout, every block, final norm) and each loss against finite differences of the summed loss.</summary>
    [Theory]
    [MemberData(nameof(LossVariants))]
    public void Whole_model_gradients_match_finite_differences(bool preNorm, LossKind kind, bool positionsFromStart, bool normalisedResidual = false, float attentionDropout = 0f, float temperature = 0f, bool excludeSeen = false, bool separateOutput = false, float inputItemDropout = 0f, float labelSmoothing = 0f, bool recencyBias = false, int futureTargets = 1, bool gatedResidual = false, string activation = "gelu", int sampledItems = 0, int sampledHead = 0)
    {
        var config = Small(preNorm, activation, positionsFromStart: positionsFromStart, normalisedResidual: normalisedResidual) with { AttentionDropout = attentionDropout, Temperature = temperature, SeparateOutputEmbedding = separateOutput, InputItemDropout = inputItemDropout, RecencyBias = recencyBias, GatedResidual = gatedResidual };
        var model = new SasRecModel(config, seed: 11);
        foreach (var p in model.Parameters.Where(p => p.Shape.Length == 1))
        {
            var noise = GradientCheck.Random(p.Data.Length, p.Name.Length + 1, 0.2);
            for (var i = 0; i < p.Data.Length; i++) p.Data[i] += noise[i];
        }
        var loss = SequenceLoss.Create(kind, config.ItemCount, negatives: 5, calibration: 0.75, excludeSeen: excludeSeen, labelSmoothing: labelSmoothing, futureTargets: futureTargets, sampledItems: sampledItems, headItems: sampledHead);
        var (sequences, negatives) = WholeModelLoss.SmallCase(loss);
        loss.Observe(sequences);

        double Run(float[][]? grads)
        {
            model.RefreshTransposes();
            return WholeModelLoss.Evaluate(model, loss, sequences, negatives, grads);
        }

        var analytic = model.Parameters.Select(p => new float[p.Data.Length]).ToArray();
        Run(analytic);
        Assert.Equal(separateOutput, model.Parameters.Any(p => p.Name == "out_emb"));
        Assert.Equal(gatedResidual ? 4 * config.Blocks : 0, model.Parameters.Count(p => p.Name.Contains(".gate", StringComparison.Ordinal)));
        foreach (var p in model.Parameters)
        {
            var stride = Math.Max(1, p.Data.Length / 9);
            var start = p.Name is "item_emb" or "out_emb" ? config.Dimension : 0;
            GradientCheck.AssertMatches(p.Name, p.Data, analytic[p.Index], () => Run(null), epsilon: 1e-2f, tolerance: 5e-3, stride: stride);
            Assert.True(start == 0 || analytic[p.Index].Take(config.Dimension).All(v => v == 0f), "The padding row must get no gradient.");
        }
    }
}

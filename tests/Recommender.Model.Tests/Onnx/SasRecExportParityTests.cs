using Recommender.Model.Onnx;
using Recommender.Model.Packaging;
using Recommender.Model.Sasrec;

namespace Recommender.Model.Tests.Onnx;

public sealed class SasRecExportParityTests
{
    private static SasRecModel RandomModel(SasRecConfig config, int seed)
    {
        var model = new SasRecModel(config, seed);
        var random = new Random(seed);
        // Perturb every parameter (biases, LayerNorm scales too) so that no term of the forward pass can hide.
        foreach (var parameter in model.Parameters)
        {
            var center = parameter.Name.EndsWith("ln1.weight") || parameter.Name.EndsWith("ln2.weight") || parameter.Name == "final_ln.weight" ? 1f : 0f;
            for (var i = 0; i < parameter.Data.Length; i++)
                parameter.Data[i] = center + (float)(random.NextDouble() - 0.5) * 0.8f;
        }
        model.Get("item_emb").Data.AsSpan(0, config.Dimension).Clear();
        return model;
    }

    [Theory]
    [InlineData(1, true, "relu", false)]
    [InlineData(2, true, "gelu", false)]
    [InlineData(4, false, "relu", false)]
    [InlineData(2, false, "gelu", false)]
    [InlineData(1, true, "relu", true)]
    [InlineData(2, false, "gelu", true)]
    [InlineData(1, true, "relu", true, true)]
    [InlineData(2, true, "gelu", false, true)]
    [InlineData(1, true, "relu", true, true, 0.5f)]
    [InlineData(2, false, "gelu", false, false, 2f)]
    [InlineData(2, true, "gelu", true, true, 0f, true)]
    [InlineData(1, false, "relu", false, false, 0f, true)]
    [InlineData(2, true, "relu", false, false, 0f, true)]
    [InlineData(2, true, "gelu", true, false, 0f, false, true)]
    [InlineData(1, true, "relu", false, false, 0.5f, true, true)]
    [InlineData(2, true, "swiglu", true, true)]
    [InlineData(1, false, "swiglu", false)]
    [InlineData(1, true, "swiglu", true, false, 0f, false, true)]
    public void Onnx_runtime_matches_the_trainer_forward(int heads, bool preNorm, string activation, bool positionsFromStart, bool normalisedResidual = false, float temperature = 0f, bool recencyBias = false, bool gatedResidual = false)
    {
        var config = new SasRecConfig
        {
            ItemCount = 40, MaxLength = 12, Dimension = 16, Heads = heads, Blocks = 2, FeedForwardDimension = 24, PreNorm = preNorm, Activation = activation,
            Dropout = 0.3f, PositionsFromStart = positionsFromStart, NormalisedResidual = normalisedResidual, Temperature = temperature, RecencyBias = recencyBias,
            GatedResidual = gatedResidual,
        };
        var model = RandomModel(config, seed: heads * 10 + (preNorm ? 1 : 0));
        Assert.Equal(recencyBias ? config.Blocks : 0, model.Parameters.Count(p => p.Name.EndsWith(".attn.recency")));
        Assert.Equal(gatedResidual ? 4 * config.Blocks : 0, model.Parameters.Count(p => p.Name.Contains(".gate", StringComparison.Ordinal)));
        var package = SasRecExporter.Export(model, Enumerable.Range(1, 40).Select(i => $"item-{i}").ToArray(), "parity", null, null);
        using var encoder = new OnnxEncoder(package);
        var random = new Random(5);
        int[] Random(int length) => Enumerable.Range(0, length).Select(_ => random.Next(1, 41)).ToArray();
        int[][] histories = [Random(12), Random(20), Random(5), [7], Random(11), [3, 3, 3]];
        var expected = model.Encode(histories);
        var actual = encoder.Encode(histories);
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= 1e-4, $"largest difference {worst}");
        Assert.True(expected.Select(Math.Abs).Max() > 0.1f, "the outputs are not trivially small");
    }

    [Fact]
    public void Empty_history_is_a_zero_row_and_package_holds_the_item_embeddings()
    {
        var config = new SasRecConfig { ItemCount = 10, MaxLength = 6, Dimension = 8, Blocks = 1 };
        var model = RandomModel(config, seed: 3);
        var package = SasRecExporter.Export(model, Enumerable.Range(1, 10).Select(i => i.ToString()).ToArray(), "edge", null, new Dictionary<string, double> { ["val NDCG@10"] = 0.1 });
        Assert.Equal(SimilarityKinds.Dot, package.Manifest.Similarity);
        Assert.Equal(SasRecExporter.Kind, package.Manifest.Kind);
        Assert.Equal(model.Get("item_emb").Data.AsSpan(8).ToArray(), package.ItemEmbeddings);
        using var encoder = new OnnxEncoder(package);
        var vectors = encoder.Encode([[], [2, 4]]);
        Assert.All(vectors.Take(8), v => Assert.Equal(0f, v));
        Assert.Contains(vectors.Skip(8), v => v != 0);
        Assert.Throws<ArgumentException>(() => SasRecExporter.Export(model, ["1"], "bad", null, null));
    }

    /// <summary>
    /// With a separate output table the encoder still reads item_emb while the package scores with out_emb: the served
    /// vectors equal the trainer's, the package's table is out_emb's rows 1..N, and a saved checkpoint reloads both.
    /// </summary>
    [Fact]
    public void Separate_output_package_encodes_with_item_emb_and_scores_with_out_emb()
    {
        var config = new SasRecConfig { ItemCount = 20, MaxLength = 8, Dimension = 8, Blocks = 2, NormalisedResidual = true, PositionsFromStart = true, SeparateOutputEmbedding = true };
        var model = RandomModel(config, seed: 6);
        var input = model.Get("item_emb").Data.AsSpan(8).ToArray();
        var output = model.Get("out_emb").Data.AsSpan(8).ToArray();
        Assert.NotEqual(input, output);
        Assert.All(new SasRecModel(config, seed: 6).Get("out_emb").Data.Take(8), v => Assert.Equal(0f, v));
        var package = SasRecExporter.Export(model, Enumerable.Range(1, 20).Select(i => i.ToString()).ToArray(), "separate", null, null);
        Assert.Equal(output, package.ItemEmbeddings);
        Assert.True((bool)package.Manifest.Training!["separateOutputEmbedding"]!);
        using var encoder = new OnnxEncoder(package);
        int[][] histories = [[1, 5, 9, 13, 17, 2, 6, 10, 14, 18], [4], [20, 20, 3]];
        var expected = model.Encode(histories);
        var worst = expected.Zip(encoder.Encode(histories), (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= 1e-4, $"largest difference {worst}");

        using var scratch = new ScratchDirectory();
        var path = scratch["separate.model"];
        model.Save(path);
        var loaded = SasRecModel.Load(path);
        Assert.True(loaded.Config.SeparateOutputEmbedding);
        Assert.Equal(output, loaded.ItemEmbeddings());
        Assert.Equal(expected, loaded.Encode(histories));
    }

    /// <summary>
    /// A cosine-scored package: unit-length item rows and user vectors of length 1/τ, so the served dot product is the
    /// cosine of the raw hidden state and the raw embedding divided by τ (recomputed here from the parameters).
    /// </summary>
    [Fact]
    public void Cosine_scored_package_serves_the_cosine_over_the_temperature_as_a_dot_product()
    {
        const float temperature = 0.25f;
        var plain = new SasRecConfig { ItemCount = 30, MaxLength = 8, Dimension = 12, Blocks = 1 };
        var cosine = RandomModel(plain with { Temperature = temperature }, seed: 4);
        var dot = new SasRecModel(plain, seed: 4);
        foreach (var p in cosine.Parameters) p.Data.CopyTo(dot.Get(p.Name).Data, 0);
        var package = SasRecExporter.Export(cosine, Enumerable.Range(1, 30).Select(i => i.ToString()).ToArray(), "cosine", null, null);
        Assert.Equal(SimilarityKinds.Dot, package.Manifest.Similarity);
        Assert.Equal(temperature, (float)package.Manifest.Training!["temperature"]!);
        using var encoder = new OnnxEncoder(package);
        int[][] histories = [[3, 9, 27], [5]];
        var served = encoder.Encode(histories);
        var hidden = dot.Encode(histories);
        var raw = dot.ItemEmbeddings();
        for (var u = 0; u < histories.Length; u++)
        {
            var user = served.AsSpan(u * 12, 12);
            Assert.Equal(1 / temperature, Math.Sqrt(user.ToArray().Sum(v => (double)v * v)), 3);
            for (var i = 0; i < 30; i++)
            {
                var item = package.ItemEmbeddings.AsSpan(i * 12, 12);
                Assert.Equal(1, Math.Sqrt(item.ToArray().Sum(v => (double)v * v)), 4);
                var h = hidden.AsSpan(u * 12, 12).ToArray();
                var e = raw.AsSpan(i * 12, 12).ToArray();
                var expected = h.Zip(e, (a, b) => (double)a * b).Sum() / Math.Sqrt(h.Sum(v => (double)v * v)) / Math.Sqrt(e.Sum(v => (double)v * v)) / temperature;
                var actual = user.ToArray().Zip(item.ToArray(), (a, b) => (double)a * b).Sum();
                Assert.Equal(expected, actual, 3);
            }
        }
        Assert.All(encoder.Encode([[]]), v => Assert.Equal(0f, v));
    }
}

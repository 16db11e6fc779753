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
    public void Onnx_runtime_matches_the_trainer_forward(int heads, bool preNorm, string activation, bool positionsFromStart, bool normalisedResidual = false)
    {
        var config = new SasRecConfig
        {
            ItemCount = 40, MaxLength = 12, Dimension = 16, Heads = heads, Blocks = 2, FeedForwardDimension = 24, PreNorm = preNorm, Activation = activation,
            Dropout = 0.3f, PositionsFromStart = positionsFromStart, NormalisedResidual = normalisedResidual,
        };
        var model = RandomModel(config, seed: heads * 10 + (preNorm ? 1 : 0));
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
}

using Recommender.Model.Onnx;
using Recommender.Model.Sasrec;

namespace Recommender.Model.Tests.Onnx;

public sealed class SasRecEnsembleExportTests
{
    private static readonly string[] ItemIds = Enumerable.Range(1, 30).Select(i => $"item-{i}").ToArray();

    private static SasRecModel Model(SasRecConfig config, int seed)
    {
        var model = new SasRecModel(config, seed);
        var random = new Random(seed);
        foreach (var parameter in model.Parameters.Where(p => p.Shape.Length == 1))
            for (var i = 0; i < parameter.Data.Length; i++) parameter.Data[i] += (float)(random.NextDouble() - 0.5) * 0.4f;
        return model;
    }

    [Fact]
    public void Ensemble_scores_are_the_sum_of_the_members_scores()
    {
        // Members differ in width, depth, block, positions and scores (dot, cosine): the merged graph must keep each one's constants apart.
        var a = Model(new SasRecConfig { ItemCount = 30, MaxLength = 10, Dimension = 16, Heads = 2, Blocks = 2 }, seed: 1);
        var b = Model(new SasRecConfig { ItemCount = 30, MaxLength = 10, Dimension = 8, Blocks = 1, NormalisedResidual = true, PositionsFromStart = true, Temperature = 0.5f }, seed: 2);
        var package = SasRecEnsembleExporter.Export([a, b], ItemIds, "ensemble", null, null);
        Assert.Equal(24, package.Manifest.Dimension);

        int[][] histories = [[3], [1, 2, 3, 4, 5], Enumerable.Range(1, 14).ToArray(), [7, 7, 9]];
        using var encoder = new OnnxEncoder(package);
        var users = encoder.Encode(histories);
        var ua = a.Encode(histories);
        var ub = b.Encode(histories);
        var ea = a.ItemEmbeddings();
        var eb = b.ItemEmbeddings();
        for (var h = 0; h < histories.Length; h++)
            for (var item = 0; item < 30; item++)
            {
                var expected = Dot(ua.AsSpan(h * 16, 16), ea.AsSpan(item * 16, 16)) + Dot(ub.AsSpan(h * 8, 8), eb.AsSpan(item * 8, 8));
                var actual = Dot(users.AsSpan(h * 24, 24), package.ItemEmbeddings.AsSpan(item * 24, 24));
                Assert.True(Math.Abs(expected - actual) < 1e-3, $"history {h}, item {item}: members sum to {expected}, the ensemble gives {actual}");
            }
    }

    [Fact]
    public void Members_must_share_catalogue_window_and_id_representation()
    {
        var a = Model(new SasRecConfig { ItemCount = 30, MaxLength = 10, Dimension = 8, Blocks = 1 }, seed: 1);
        var fewerItems = Model(new SasRecConfig { ItemCount = 20, MaxLength = 10, Dimension = 8, Blocks = 1 }, seed: 2);
        var shorter = Model(new SasRecConfig { ItemCount = 30, MaxLength = 6, Dimension = 8, Blocks = 1 }, seed: 3);
        Assert.Contains("20 items", Assert.Throws<ArgumentException>(() => SasRecEnsembleExporter.Export([a, fewerItems], ItemIds, "bad", null, null)).Message);
        Assert.Contains("input window", Assert.Throws<ArgumentException>(() => SasRecEnsembleExporter.Export([a, shorter], ItemIds, "bad", null, null)).Message);
        Assert.Throws<ArgumentException>(() => SasRecEnsembleExporter.Export([], ItemIds, "bad", null, null));
        Assert.Equal(8, SasRecEnsembleExporter.Export([a], ItemIds, "single", null, null).Manifest.Dimension);
    }

    private static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y) => System.Numerics.Tensors.TensorPrimitives.Dot(x, y);
}

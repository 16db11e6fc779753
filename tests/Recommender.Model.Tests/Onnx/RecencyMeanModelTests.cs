using Recommender.Model.Baselines;
using Recommender.Model.Data;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;
using Recommender.Model.Tests.Data;

namespace Recommender.Model.Tests.Onnx;

public sealed class RecencyMeanModelTests
{
    /// <summary>Two disjoint communities of items: users only ever mix items within one community.</summary>
    private static SequenceDataset TwoCommunities(int users = 200, int seed = 7)
    {
        var random = new Random(seed);
        var sequences = new List<int[]>();
        for (var u = 0; u < users; u++)
        {
            var offset = u % 2 == 0 ? 1 : 11; // items 1..10 or 11..20
            sequences.Add(Enumerable.Range(0, 12).Select(_ => offset + random.Next(10)).ToArray());
        }
        // Item 21 appears only alone: it never co-occurs with anything.
        sequences.Add([21]);
        return new SequenceDataset(sequences, SequenceDataset.IdentityVocabulary(21));
    }

    /// <summary>The recency-weighted mean written out directly, as the graph must compute it.</summary>
    private static float[] Reference(ModelPackage package, float decay, int[] history)
    {
        var d = package.Manifest.Dimension;
        var l = package.Manifest.MaxLength;
        var kept = history.Skip(Math.Max(0, history.Length - l)).ToArray();
        var sum = new double[d];
        double weightSum = 0;
        for (var t = 0; t < kept.Length; t++)
        {
            var position = l - kept.Length + t;
            var weight = Math.Pow(decay, l - 1 - position);
            weightSum += weight;
            var vector = package.ItemVector(kept[t]);
            for (var k = 0; k < d; k++) sum[k] += weight * vector[k];
        }
        var mean = sum.Select(x => x / (weightSum + RecencyMeanModel.Epsilon)).ToArray();
        var norm = Math.Sqrt(mean.Sum(x => x * x));
        return mean.Select(x => (float)(norm < RecencyMeanModel.Epsilon ? 0 : x / norm)).ToArray();
    }

    [Theory]
    [InlineData(21)]
    [InlineData(2000)]
    public void A_dimension_not_below_the_item_count_is_rejected_naming_both(int dimension)
    {
        var error = Assert.Throws<ArgumentException>(() => RecencyMeanModel.Build(TwoCommunities(), "rm-too-wide", dimension));
        Assert.Contains($"dimension {dimension} must be smaller than the number of items (21)", error.Message);
        Assert.Throws<ArgumentException>(() => PmiSvdEmbeddings.Compute(TwoCommunities(), dimension));
    }

    [Fact]
    public void The_widest_allowed_dimension_is_one_below_the_item_count()
    {
        var vectors = PmiSvdEmbeddings.Compute(TwoCommunities(), dimension: 20);
        Assert.Equal(21 * 20, vectors.Length);
        for (var item = 0; item < 20; item++)
            Assert.Equal(1.0, Math.Sqrt(vectors.AsSpan(item * 20, 20).ToArray().Sum(x => (double)x * x)), 4);
        Assert.All(vectors.AsSpan(20 * 20, 20).ToArray(), x => Assert.Equal(0f, x)); // item 21 co-occurs with nothing
    }

    [Fact]
    public void Onnx_graph_matches_the_recency_weighted_mean()
    {
        const float decay = 0.8f;
        var package = RecencyMeanModel.Build(TwoCommunities(), "rm-test", dimension: 8, maxLength: 6, recencyDecay: decay);
        using var encoder = new OnnxEncoder(package);
        int[][] histories = [[3], [1, 2, 3], [5, 11, 12, 4, 7, 9, 13, 2, 20], [4, 4, 4, 15, 16, 1]];
        var vectors = encoder.Encode(histories);
        Assert.Equal(histories.Length * 8, vectors.Length);
        for (var b = 0; b < histories.Length; b++)
        {
            var expected = Reference(package, decay, histories[b]);
            for (var k = 0; k < 8; k++)
                Assert.Equal(expected[k], vectors[b * 8 + k], 1e-5);
            Assert.Equal(1.0, Math.Sqrt(expected.Sum(x => (double)x * x)), 1e-4);
        }
    }

    [Fact]
    public void Only_the_most_recent_MaxLength_items_are_encoded()
    {
        var package = RecencyMeanModel.Build(TwoCommunities(), "rm-recency", dimension: 8, maxLength: 3, recencyDecay: 0.5f);
        using var encoder = new OnnxEncoder(package);
        // Items 1..10 form one community; the history ends with three items of the other one.
        var vectors = encoder.Encode([[1, 2, 3, 4, 11, 12, 13], [11, 12, 13]]);
        // Only the last 3 items fit in the window, so both histories encode identically.
        for (var k = 0; k < 8; k++) Assert.Equal(vectors[8 + k], vectors[k], 1e-6);
    }

    [Fact]
    public void Items_that_co_occur_are_closer_than_items_that_do_not()
    {
        var package = RecencyMeanModel.Build(TwoCommunities(), "rm-pmi", dimension: 4);
        double Cosine(int a, int b) => System.Numerics.Tensors.TensorPrimitives.Dot(package.ItemVector(a), package.ItemVector(b));
        var within = new List<double>();
        var across = new List<double>();
        for (var a = 1; a <= 20; a++)
            for (var b = a + 1; b <= 20; b++)
                ((a <= 10) == (b <= 10) ? within : across).Add(Cosine(a, b));
        Assert.True(within.Min() > across.Max(), $"min within-community cosine {within.Min():F3} <= max across {across.Max():F3}");
        for (var a = 1; a <= 20; a++) Assert.Equal(1.0, Cosine(a, a), 1e-5);
        Assert.True(package.ItemVector(21).ToArray().All(x => x == 0), "an item without co-occurrence must get a zero vector");
    }

    [Fact]
    public void Empty_history_is_a_zero_row_and_unknown_ids_are_named()
    {
        var package = RecencyMeanModel.Build(TwoCommunities(), "rm-edges", dimension: 4, maxLength: 5);
        using var encoder = new OnnxEncoder(package);
        var vectors = encoder.Encode([[], [2]]);
        Assert.All(vectors.Take(4), x => Assert.Equal(0f, x));
        Assert.NotEqual(0f, vectors.Skip(4).Sum(x => x * x));
        var error = Assert.Throws<ArgumentException>(() => encoder.Encode([[1, 22]]));
        Assert.Contains("22", error.Message);
        Assert.Throws<ArgumentException>(() => encoder.Encode([[0]]));
    }

    [Fact]
    public void Package_round_trips_through_disk_and_concurrent_calls_agree()
    {
        var package = RecencyMeanModel.Build(TwoCommunities(), "rm-disk", dimension: 8, maxLength: 10);
        var directory = SharedData.TempDirectory();
        package.Save(directory);
        var loaded = ModelPackage.Load(directory);
        Assert.Equal(RecencyMeanModel.Kind, loaded.Manifest.Kind);
        Assert.Equal(SimilarityKinds.Cosine, loaded.Manifest.Similarity);
        using var encoder = new OnnxEncoder(loaded, new OnnxThreading(IntraOpThreads: 1));
        var expected = encoder.Encode([[1, 5, 9], [12]]);
        var alone = encoder.Encode([[1, 5, 9]]);
        for (var k = 0; k < 8; k++) Assert.Equal(alone[k], expected[k], 1e-6);
        var results = new float[16][];
        Parallel.For(0, results.Length, i => results[i] = encoder.Encode([[1, 5, 9], [12]]));
        foreach (var r in results) Assert.Equal(expected, r);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public void Builds_from_movielens_latest_small_in_seconds()
    {
        var data = InteractionLoader.Load(SharedData.Path("ml-latest-small", "ratings.csv"), InteractionFormat.MovieLensCsv);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var package = RecencyMeanModel.Build(data, "rm-ml-small");
        watch.Stop();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"building took {watch.Elapsed}");
        // 9,742 movies are listed, 9,724 of them rated.
        Assert.Equal(9724, package.Manifest.ItemCount);
        using var encoder = new OnnxEncoder(package);
        var vector = encoder.Encode([data.Sequences[0]]);
        Assert.Equal(1.0, Math.Sqrt(vector.Sum(x => (double)x * x)), 1e-4);
    }
}

using Recommender.Model.Text;

namespace Recommender.Model.Tests.Text;

public sealed class SentenceTextEncoderTests
{
    private static float Dot(float[] a, float[] b) => System.Numerics.Tensors.TensorPrimitives.Dot(a, b);

    [Fact]
    public void Encodes_deterministic_unit_vectors_that_reflect_meaning()
    {
        using var encoder = new SentenceTextEncoder(intraOpThreads: 1);
        string[] texts =
        [
            "Toy Story (1995). Adventure, Animation, Children, Comedy, Fantasy",
            "Toy Story 2 (1999). Adventure, Animation, Children, Comedy, Fantasy",
            "Saw (2004). Horror, Mystery, Thriller. Tags: gore",
        ];
        var first = encoder.Encode(texts);
        var second = encoder.Encode(texts);
        Assert.Equal(3, first.Length);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(SentenceTextEncoder.Dimension, first[i].Length);
            Assert.Equal(first[i], second[i]);
            Assert.Equal(1.0, Math.Sqrt(Dot(first[i], first[i])), 4);
        }
        // The two animated sequels are closer to each other than either is to the horror film.
        Assert.True(Dot(first[0], first[1]) > Dot(first[0], first[2]) + 0.2f, $"{Dot(first[0], first[1])} vs {Dot(first[0], first[2])}");
    }

    [Fact]
    public void Batches_larger_inputs_and_matches_single_calls()
    {
        using var encoder = new SentenceTextEncoder();
        var texts = Enumerable.Range(0, SentenceTextEncoder.BatchSize + 3).Select(i => $"Movie {i}. Drama").ToArray();
        var all = encoder.Encode(texts);
        Assert.Equal(texts.Length, all.Length);
        var last = encoder.Encode([texts[^1]]);
        for (var d = 0; d < SentenceTextEncoder.Dimension; d++)
            Assert.Equal(last[0][d], all[^1][d], 4);
        Assert.Empty(encoder.Encode([]));
    }

    [Fact]
    public void Texts_of_mixed_lengths_keep_their_places_and_their_own_vectors()
    {
        using var encoder = new SentenceTextEncoder();
        // Lengths that interleave, over more than one batch: the calls are batched by length and answered in order.
        var texts = Enumerable.Range(0, SentenceTextEncoder.BatchSize + 20)
            .Select(i => i % 3 == 0 ? $"Film {i}. " + string.Join(", ", Enumerable.Repeat("Drama", 1 + i % 17)) : $"Film {i}").ToArray();
        var all = encoder.Encode(texts);
        foreach (var i in new[] { 0, 1, 3, 40, texts.Length - 2, texts.Length - 1 })
            Assert.Equal(encoder.Encode([texts[i]])[0], all[i]);
    }

    [Fact]
    public void Is_safe_to_call_from_several_threads()
    {
        using var encoder = new SentenceTextEncoder();
        var expected = encoder.Encode(["Alien (1979). Horror, Sci-Fi"])[0];
        var results = new float[4][];
        Parallel.For(0, results.Length, i => results[i] = encoder.Encode(["Alien (1979). Horror, Sci-Fi"])[0]);
        foreach (var result in results) Assert.Equal(expected, result);
    }

    [Fact]
    public void Rejects_a_null_text_naming_its_index()
    {
        using var encoder = new SentenceTextEncoder();
        var error = Assert.Throws<ArgumentException>(() => encoder.Encode(["fine", null!]));
        Assert.Contains("Text 1", error.Message);
    }
}

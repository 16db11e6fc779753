using Recommender.Model.Nn;

namespace Recommender.Model.Tests.Nn;

public sealed class CausalSelfAttentionTests
{
    /// <param name="dropout">Rate of a fixed attention-weight dropout mask (0 = none), the same for every evaluation.</param>
    [Theory]
    [InlineData(1, 8, 1, 0.0)]
    [InlineData(5, 8, 2, 0.0)]
    [InlineData(19, 8, 2, 0.0)]
    [InlineData(5, 8, 2, 0.3)]
    [InlineData(19, 8, 1, 0.3)]
    [InlineData(7, 8, 2, 0.0, true)]
    [InlineData(19, 8, 1, 0.3, true)]
    public void Backward_matches_finite_differences(int n, int dimension, int heads, double dropout, bool recencyBias = false)
    {
        var q = GradientCheck.Random(n * dimension, 1);
        var k = GradientCheck.Random(n * dimension, 2);
        var v = GradientCheck.Random(n * dimension, 3);
        var r = GradientCheck.Random(n * dimension, 4);
        var ld = CausalSelfAttention.Stride(n);
        var random = new Random(15);
        var mask = dropout == 0 ? [] : Enumerable.Range(0, heads * n * ld).Select(_ => random.NextDouble() < dropout ? 0f : (float)(1 / (1 - dropout))).ToArray();
        var dropped = new float[mask.Length];
        var probabilities = new float[heads * n * ld];
        var scratch = new float[n * ld + dimension * ld];
        // Slopes of either sign, large enough to reshape the attention over a few positions.
        var recency = recencyBias ? Enumerable.Range(0, heads).Select(h => h % 2 == 0 ? 0.3f : -0.2f).ToArray() : [];
        double Objective()
        {
            var context = new float[n * dimension];
            CausalSelfAttention.Forward(q, k, v, n, dimension, heads, new float[heads * n * ld], context, scratch, mask, new float[mask.Length], recency);
            return GradientCheck.Weighted(context, r);
        }
        var output = new float[n * dimension];
        CausalSelfAttention.Forward(q, k, v, n, dimension, heads, probabilities, output, scratch, mask, dropped, recency);
        if (recencyBias)
        {
            var flat = new float[n * dimension];
            CausalSelfAttention.Forward(q, k, v, n, dimension, heads, new float[heads * n * ld], flat, scratch, mask, new float[mask.Length]);
            Assert.NotEqual(flat, output);
        }
        if (dropout > 0)
        {
            var undropped = new float[n * dimension];
            CausalSelfAttention.Forward(q, k, v, n, dimension, heads, new float[heads * n * ld], undropped, scratch);
            Assert.NotEqual(undropped, output);
        }
        var dq = new float[n * dimension];
        var dk = new float[n * dimension];
        var dv = new float[n * dimension];
        var dRecency = new float[recency.Length];
        CausalSelfAttention.Backward(q, k, v, probabilities, r, n, dimension, heads, dq, dk, dv, scratch, mask, dropped, dRecency);
        GradientCheck.AssertMatches("dQ", q, dq, Objective);
        GradientCheck.AssertMatches("dK", k, dk, Objective);
        GradientCheck.AssertMatches("dV", v, dv, Objective);
        if (recencyBias) GradientCheck.AssertMatches("dRecency", recency, dRecency, Objective);
    }

    [Fact]
    public void Real_rows_equal_the_full_left_padded_window_with_the_minus_1e9_mask()
    {
        const int n = 6, pad = 4, dimension = 8, heads = 2, dh = dimension / heads;
        var q = GradientCheck.Random(n * dimension, 5);
        var k = GradientCheck.Random(n * dimension, 6);
        var v = GradientCheck.Random(n * dimension, 7);
        var ld = CausalSelfAttention.Stride(n);
        var context = new float[n * dimension];
        CausalSelfAttention.Forward(q, k, v, n, dimension, heads, new float[heads * n * ld], context, new float[n * ld + dimension * ld]);
        // Reference: pad rows first (their Q/K/V are arbitrary non-zero values), mask = 0 if j <= i and j is real, else -1e9.
        var total = n + pad;
        var padding = GradientCheck.Random(pad * dimension, 8);
        float Get(float[] x, int t, int c) => t < pad ? padding[t * dimension + c] : x[(t - pad) * dimension + c];
        for (var i = pad; i < total; i++)
            for (var h = 0; h < heads; h++)
            {
                var scores = new double[total];
                for (var j = 0; j < total; j++)
                {
                    var dot = 0.0;
                    for (var c = 0; c < dh; c++) dot += Get(q, i, h * dh + c) * Get(k, j, h * dh + c);
                    scores[j] = (float)(dot / Math.Sqrt(dh)) + (j <= i && j >= pad ? 0f : -1e9f);
                }
                var max = scores.Max();
                var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
                var sum = weights.Sum();
                for (var c = 0; c < dh; c++)
                {
                    var expected = 0.0;
                    for (var j = 0; j < total; j++) expected += weights[j] / sum * Get(v, j, h * dh + c);
                    Assert.Equal(expected, context[(i - pad) * dimension + h * dh + c], 4);
                }
            }
    }
}

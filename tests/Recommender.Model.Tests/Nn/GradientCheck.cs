using Recommender.Model.Nn;

namespace Recommender.Model.Tests.Nn;

/// <summary>Central finite differences against analytic gradients, for float32 code evaluated in small sizes.</summary>
internal static class GradientCheck
{
    public static float[] Random(int length, int seed, double scale = 1.0)
    {
        var rng = SplitMix.For(seed);
        var values = new float[length];
        for (var i = 0; i < length; i++) values[i] = (float)(rng.NextGaussian() * scale);
        return values;
    }

    /// <summary>Σ out · weights in double.</summary>
    public static double Weighted(ReadOnlySpan<float> output, ReadOnlySpan<float> weights)
    {
        var sum = 0.0;
        for (var i = 0; i < weights.Length; i++) sum += (double)output[i] * weights[i];
        return sum;
    }

    /// <summary>
    /// Perturbs every (or every <paramref name="stride"/>-th) entry of <paramref name="values"/> and asserts that the
    /// numeric derivative of <paramref name="objective"/> matches <paramref name="analytic"/>.
    /// </summary>
    public static void AssertMatches(string what, float[] values, ReadOnlySpan<float> analytic, Func<double> objective,
        float epsilon = 1e-2f, double tolerance = 2e-3, int stride = 1)
    {
        var worst = 0.0;
        var checkedCount = 0;
        for (var i = 0; i < values.Length; i += stride)
        {
            var original = values[i];
            values[i] = original + epsilon;
            var plus = objective();
            values[i] = original - epsilon;
            var minus = objective();
            values[i] = original;
            var numeric = (plus - minus) / (2.0 * epsilon);
            var error = Math.Abs(numeric - analytic[i]) / Math.Max(1.0, Math.Abs(numeric));
            worst = Math.Max(worst, error);
            checkedCount++;
            Assert.True(error <= tolerance, $"{what}[{i}]: analytic {analytic[i]:G6}, numeric {numeric:G6} (relative error {error:G3}).");
        }
        Assert.True(checkedCount > 0, $"{what}: nothing checked.");
    }
}

using Recommender.Model.Nn;

namespace Recommender.Model.Tests.Nn;

public sealed class GemmTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(4, 64, 64)]
    [InlineData(7, 70, 33)]
    [InlineData(13, 200, 300)]
    [InlineData(5, 17, 600)]
    [InlineData(9, 130, 5)]
    public void Product_matches_a_naive_triple_loop(int m, int n, int k)
    {
        var a = GradientCheck.Random(m * k, 1);
        var b = GradientCheck.Random(k * n, 2);
        var c = new float[m * n];
        Gemm.Multiply(m, n, k, a, k, 1, b, n, c, n, accumulate: false);
        AssertClose(Naive(m, n, k, (i, p) => a[i * k + p], b), c, k);
    }

    [Fact]
    public void Transposed_a_and_accumulation_and_row_strides_work()
    {
        const int m = 11, n = 80, k = 37, ldc = 85;
        var at = GradientCheck.Random(k * m, 3); // A stored transposed: A[i, p] = at[p * m + i]
        var b = GradientCheck.Random(k * n, 4);
        var c = GradientCheck.Random(m * ldc, 5);
        var before = (float[])c.Clone();
        Gemm.Multiply(m, n, k, at, 1, m, b, n, c, ldc, accumulate: true);
        var expected = Naive(m, n, k, (i, p) => at[p * m + i], b);
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
                Assert.True(Math.Abs(before[i * ldc + j] + expected[i * n + j] - c[i * ldc + j]) < 1e-3, $"C[{i},{j}]");
            for (var j = n; j < ldc; j++) Assert.Equal(before[i * ldc + j], c[i * ldc + j]);
        }
    }

    [Theory]
    [InlineData(8, 64, 16)]
    [InlineData(12, 200, 300)]
    [InlineData(9, 3424, 128)]
    public void Packed_panels_give_the_same_bits_as_row_by_row_products(int m, int n, int k)
    {
        // From 8 rows on, B's 64-column panels are copied into a contiguous buffer; a single row is multiplied
        // straight from B. Both sum each element over k in the same order, so the results must agree exactly.
        const int ldb = 3456;
        var a = GradientCheck.Random(m * k, 6);
        var b = GradientCheck.Random(k * ldb, 7);
        var whole = new float[m * n];
        Gemm.Multiply(m, n, k, a, k, 1, b, ldb, whole, n, accumulate: false);
        var row = new float[n];
        for (var i = 0; i < m; i++)
        {
            Gemm.Multiply(1, n, k, a.AsSpan(i * k, k), k, 1, b, ldb, row, n, accumulate: false);
            Assert.Equal(row, whole.AsSpan(i * n, n).ToArray());
        }
    }

    [Fact]
    public void Too_short_buffers_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(4, 4, 4, new float[15], 4, 1, new float[16], 4, new float[16], 4, false));
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(4, 4, 4, new float[16], 4, 1, new float[16], 4, new float[15], 4, false));
    }

    private static float[] Naive(int m, int n, int k, Func<int, int, float> a, float[] b)
    {
        var c = new float[m * n];
        for (var i = 0; i < m; i++)
            for (var j = 0; j < n; j++)
            {
                var sum = 0.0;
                for (var p = 0; p < k; p++) sum += (double)a(i, p) * b[p * n + j];
                c[i * n + j] = (float)sum;
            }
        return c;
    }

    private static void AssertClose(float[] expected, float[] actual, int k)
    {
        var tolerance = 1e-5 * Math.Sqrt(k) * 10;
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"C[{i}]: expected {expected[i]}, got {actual[i]}");
    }
}

using Recommender.Model.Baselines;

namespace Recommender.Model.Tests.Onnx;

public sealed class RandomizedSvdTests
{
    [Fact]
    public void Randomized_svd_matches_the_dense_eigen_decomposition_of_a_symmetric_ppmi_matrix()
    {
        var random = new Random(11);
        var sequences = Enumerable.Range(0, 300).Select(u => Enumerable.Range(0, 15).Select(_ => 1 + ((u % 3) * 10 + random.Next(12)) % 30).ToArray()).ToList();
        // Without context smoothing PPMI is symmetric, so its singular values are the absolute eigenvalues.
        var ppmi = CooccurrenceMatrix.Count(sequences, 30, window: 3).PositivePmi(contextSmoothing: 1);
        var dense = new double[30 * 30];
        for (var i = 0; i < 30; i++)
            for (var j = 0; j < 30; j++) dense[i * 30 + j] = ppmi[i, j];
        for (var i = 0; i < 30; i++)
            for (var j = 0; j < 30; j++) Assert.Equal(dense[i * 30 + j], dense[j * 30 + i], 5);

        var (values, vectors) = SymmetricEigen.Decompose(dense, 30);
        // V diag(λ) Vᵀ reconstructs the matrix.
        for (var i = 0; i < 30; i++)
            for (var j = 0; j < 30; j++)
                Assert.Equal(dense[i * 30 + j], Enumerable.Range(0, 30).Sum(k => vectors[i * 30 + k] * values[k] * vectors[j * 30 + k]), 6);

        var expected = values.Select(Math.Abs).OrderDescending().Take(5).ToArray();
        var svd = RandomizedSvd.Compute(ppmi, rank: 5, seed: 3);
        for (var k = 0; k < 5; k++) Assert.Equal(expected[k], svd.S[k], 3);
        // The left singular vectors are orthonormal.
        for (var a = 0; a < 5; a++)
            for (var b = 0; b < 5; b++)
                Assert.Equal(a == b ? 1 : 0, Enumerable.Range(0, 30).Sum(r => svd.U[r * 5 + a] * svd.U[r * 5 + b]), 6);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(30)]
    [InlineData(2000)]
    public void A_rank_outside_one_to_size_minus_one_is_rejected(int rank)
    {
        var ppmi = CooccurrenceMatrix.Count([Enumerable.Range(1, 30).ToArray()], 30, window: 3).PositivePmi();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => RandomizedSvd.Compute(ppmi, rank, seed: 1));
        Assert.Contains("matrix size 30", error.Message);
    }
}

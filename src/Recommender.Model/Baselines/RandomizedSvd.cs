namespace Recommender.Model.Baselines;

/// <summary>
/// Truncated SVD of a sparse matrix by randomized subspace iteration (Halko, Martinsson and Tropp, 2011):
/// a Gaussian sketch of the range, a few power iterations with re-orthonormalisation, then an exact
/// eigen-decomposition of the small projected Gram matrix.
/// </summary>
public static class RandomizedSvd
{
    /// <summary>Left singular vectors (row-major [Size, rank]) and singular values (descending).</summary>
    public sealed record Result(double[] U, double[] S, int Rank);

    /// <param name="rank">Singular triplets to keep: 1..Size − 1 (the method is for truncated factorisations).</param>
    public static Result Compute(CooccurrenceMatrix a, int rank, int seed, int oversample = 10, int powerIterations = 4)
    {
        ArgumentNullException.ThrowIfNull(a);
        var n = a.Size;
        if (rank <= 0 || rank >= n)
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"The rank must be at least 1 and smaller than the matrix size {n}.");
        var width = Math.Min(n, rank + oversample);
        ModelLimits.CheckTensor("range sketch (rows x (rank + oversampling))", n, width);
        var random = new Random(seed);
        var omega = new double[n * width];
        for (var i = 0; i < omega.Length; i++) omega[i] = Gaussian(random);

        var q = Orthonormalise(a.Multiply(omega, width), n, width);
        for (var i = 0; i < powerIterations; i++)
        {
            var z = Orthonormalise(a.MultiplyTransposed(q, width), n, width);
            q = Orthonormalise(a.Multiply(z, width), n, width);
        }
        // B = Qᵀ A, so B Bᵀ = (Aᵀ Q)ᵀ (Aᵀ Q); its eigenvectors rotate Q onto the left singular vectors.
        var atq = a.MultiplyTransposed(q, width);
        var gram = new double[width * width];
        for (var r = 0; r < n; r++)
        {
            var row = atq.AsSpan(r * width, width);
            for (var i = 0; i < width; i++)
            {
                var ri = row[i];
                if (ri == 0) continue;
                for (var j = i; j < width; j++) gram[i * width + j] += ri * row[j];
            }
        }
        for (var i = 0; i < width; i++)
            for (var j = 0; j < i; j++) gram[i * width + j] = gram[j * width + i];
        var (eigenvalues, eigenvectors) = SymmetricEigen.Decompose(gram, width);
        var order = Enumerable.Range(0, width).OrderByDescending(i => eigenvalues[i]).Take(rank).ToArray();
        var u = new double[n * rank];
        var s = new double[rank];
        for (var c = 0; c < rank; c++)
        {
            var e = order[c];
            s[c] = Math.Sqrt(Math.Max(0, eigenvalues[e]));
            for (var r = 0; r < n; r++)
            {
                double sum = 0;
                for (var k = 0; k < width; k++) sum += q[r * width + k] * eigenvectors[k * width + e];
                u[r * rank + c] = sum;
            }
        }
        return new Result(u, s, rank);
    }

    /// <summary>Modified Gram-Schmidt on the columns of row-major X [rows, width]; a column that vanishes is left zero.</summary>
    internal static double[] Orthonormalise(double[] x, int rows, int width)
    {
        var columns = new double[width][];
        for (var c = 0; c < width; c++)
        {
            var column = new double[rows];
            for (var r = 0; r < rows; r++) column[r] = x[r * width + c];
            columns[c] = column;
        }
        for (var c = 0; c < width; c++)
        {
            var column = columns[c];
            for (var p = 0; p < c; p++)
            {
                var previous = columns[p];
                var dot = Dot(column, previous);
                for (var r = 0; r < rows; r++) column[r] -= dot * previous[r];
            }
            var norm = Math.Sqrt(Dot(column, column));
            if (norm < 1e-10) Array.Clear(column);
            else for (var r = 0; r < rows; r++) column[r] /= norm;
        }
        var result = new double[rows * width];
        for (var c = 0; c < width; c++)
            for (var r = 0; r < rows; r++) result[r * width + c] = columns[c][r];
        return result;
    }

    private static double Dot(double[] a, double[] b) => System.Numerics.Tensors.TensorPrimitives.Dot<double>(a, b);

    private static double Gaussian(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}

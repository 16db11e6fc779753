using Recommender.Model.Data;

namespace Recommender.Model.Baselines;

/// <summary>
/// Item vectors from behaviour alone: the truncated SVD of the positive-PMI matrix of item co-occurrence
/// within a sliding window (Levy and Goldberg, 2014), item vector = U·sqrt(S) scaled to unit length.
/// Items that never co-occur with anything get a zero vector.
/// </summary>
public static class PmiSvdEmbeddings
{
    /// <param name="dimension">Vector length; must be smaller than the number of items (a truncated SVD keeps fewer factors than there are rows).</param>
    /// <returns>Row-major [data.ItemCount, dimension]; row i is dense item i + 1.</returns>
    /// <exception cref="ArgumentException"><paramref name="dimension"/> is not smaller than the number of items.</exception>
    public static float[] Compute(SequenceDataset data, int dimension, int window = 5, int seed = 42)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        var n = data.ItemCount;
        ModelLimits.CheckTensor("item vectors (items x dimension)", n, dimension);
        var result = new float[n * dimension];
        if (n == 0) return result;
        // At or above n the sketch spans the whole space and the eigen-solver's sweeps stop converging (it ran for hours);
        // and vectors of n items have at most n meaningful coordinates anyway.
        if (dimension >= n)
            throw new ArgumentException($"The PMI-SVD dimension {dimension} must be smaller than the number of items ({n}).");
        var ppmi = CooccurrenceMatrix.Count(data.Sequences, n, window).PositivePmi();
        if (ppmi.NonZeros == 0) return result;
        var svd = RandomizedSvd.Compute(ppmi, dimension, seed);
        for (var item = 0; item < n; item++)
        {
            var row = result.AsSpan(item * dimension, dimension);
            double norm = 0;
            for (var c = 0; c < svd.Rank; c++)
            {
                var value = svd.U[item * svd.Rank + c] * Math.Sqrt(svd.S[c]);
                row[c] = (float)value;
                norm += value * value;
            }
            norm = Math.Sqrt(norm);
            if (norm < 1e-12 || ppmi.RowStart[item + 1] == ppmi.RowStart[item]) row.Clear();
            else for (var c = 0; c < svd.Rank; c++) row[c] = (float)(row[c] / norm);
        }
        return result;
    }
}

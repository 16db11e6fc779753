namespace Recommender.Model.Baselines;

/// <summary>
/// Sparse symmetric item co-occurrence counts in compressed-row form: two items co-occur when they appear
/// within <c>window</c> positions of each other in one user's sequence. Dense ids 1..N map to rows 0..N-1.
/// </summary>
public sealed class CooccurrenceMatrix
{
    private CooccurrenceMatrix(int size, int[] rowStart, int[] columns, float[] values)
    {
        Size = size;
        RowStart = rowStart;
        Columns = columns;
        Values = values;
    }

    public int Size { get; }

    /// <summary>Row r's entries are at RowStart[r]..RowStart[r+1]-1 of <see cref="Columns"/> and <see cref="Values"/>.</summary>
    public int[] RowStart { get; }

    public int[] Columns { get; }

    public float[] Values { get; }

    public int NonZeros => Columns.Length;

    public float this[int row, int column]
    {
        get
        {
            var index = Array.BinarySearch(Columns, RowStart[row], RowStart[row + 1] - RowStart[row], column);
            return index >= 0 ? Values[index] : 0;
        }
    }

    public static CooccurrenceMatrix Count(IReadOnlyList<int[]> sequences, int itemCount, int window)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(window);
        // Pairs are packed as (row << 32 | column) and sorted: cheaper than a hash map per row.
        var pairs = new List<long>();
        foreach (var sequence in sequences)
        {
            foreach (var item in sequence)
                if (item < 1 || item > itemCount) throw new ArgumentException($"Item {item} is outside 1..{itemCount}.", nameof(sequences));
            for (var i = 0; i < sequence.Length; i++)
                for (var j = i + 1; j < Math.Min(sequence.Length, i + window + 1); j++)
                {
                    long a = sequence[i] - 1, b = sequence[j] - 1;
                    if (a == b) continue;
                    pairs.Add((a << 32) | b);
                    pairs.Add((b << 32) | a);
                }
        }
        var packed = pairs.ToArray();
        Array.Sort(packed);
        var rowStart = new int[itemCount + 1];
        var columns = new List<int>();
        var values = new List<float>();
        for (var p = 0; p < packed.Length;)
        {
            var key = packed[p];
            var run = 0;
            while (p < packed.Length && packed[p] == key) { run++; p++; }
            rowStart[(int)(key >> 32) + 1]++;
            columns.Add((int)(key & 0xFFFFFFFF));
            values.Add(run);
        }
        for (var r = 0; r < itemCount; r++) rowStart[r + 1] += rowStart[r];
        return new CooccurrenceMatrix(itemCount, rowStart, columns.ToArray(), values.ToArray());
    }

    /// <summary>
    /// Positive pointwise mutual information, max(0, log P(i,j) / (P(i) P_a(j))), with the context distribution
    /// smoothed by exponent <paramref name="contextSmoothing"/> (0.75 damps the pull of rare contexts).
    /// </summary>
    public CooccurrenceMatrix PositivePmi(double contextSmoothing = 0.75)
    {
        OptionRange.Probability.Check(contextSmoothing, nameof(contextSmoothing));
        var rowSums = new double[Size];
        double total = 0;
        for (var r = 0; r < Size; r++)
            for (var e = RowStart[r]; e < RowStart[r + 1]; e++) { rowSums[r] += Values[e]; total += Values[e]; }
        var smoothed = rowSums.Select(c => Math.Pow(c, contextSmoothing)).ToArray();
        var smoothedTotal = smoothed.Sum();
        var rowStart = new int[Size + 1];
        var columns = new List<int>();
        var values = new List<float>();
        for (var r = 0; r < Size; r++)
        {
            for (var e = RowStart[r]; e < RowStart[r + 1]; e++)
            {
                var c = Columns[e];
                var pmi = Math.Log(Values[e] / total / (rowSums[r] / total * (smoothed[c] / smoothedTotal)));
                if (pmi <= 0) continue;
                columns.Add(c);
                values.Add((float)pmi);
            }
            rowStart[r + 1] = columns.Count;
        }
        return new CooccurrenceMatrix(Size, rowStart, columns.ToArray(), values.ToArray());
    }

    /// <summary>Y = A·X for row-major X [Size, width].</summary>
    public double[] Multiply(double[] x, int width)
    {
        var y = new double[Size * width];
        Parallel.For(0, Size, r =>
        {
            var target = y.AsSpan(r * width, width);
            for (var e = RowStart[r]; e < RowStart[r + 1]; e++)
            {
                var source = x.AsSpan(Columns[e] * width, width);
                var v = (double)Values[e];
                for (var k = 0; k < width; k++) target[k] += v * source[k];
            }
        });
        return y;
    }

    /// <summary>Y = Aᵀ·X for row-major X [Size, width].</summary>
    public double[] MultiplyTransposed(double[] x, int width)
    {
        var y = new double[Size * width];
        for (var r = 0; r < Size; r++)
        {
            var source = x.AsSpan(r * width, width);
            for (var e = RowStart[r]; e < RowStart[r + 1]; e++)
            {
                var target = y.AsSpan(Columns[e] * width, width);
                var v = (double)Values[e];
                for (var k = 0; k < width; k++) target[k] += v * source[k];
            }
        }
        return y;
    }
}

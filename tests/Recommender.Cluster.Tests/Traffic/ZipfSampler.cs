namespace Recommender.Cluster.Tests.Traffic;

/// <summary>Draws ranks 0..n-1 with P(rank r) proportional to 1 / (r + 1)^s, by binary search over the cumulative weights.</summary>
public sealed class ZipfSampler
{
    private readonly double[] _cumulative;

    public ZipfSampler(int n, double exponent)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        ArgumentOutOfRangeException.ThrowIfNegative(exponent);
        _cumulative = new double[n];
        double total = 0;
        for (var r = 0; r < n; r++) _cumulative[r] = total += Math.Pow(r + 1, -exponent);
        for (var r = 0; r < n; r++) _cumulative[r] /= total;
    }

    public int Count => _cumulative.Length;

    public double Probability(int rank) => _cumulative[rank] - (rank == 0 ? 0 : _cumulative[rank - 1]);

    public int Next(Random random)
    {
        var rank = Array.BinarySearch(_cumulative, random.NextDouble());
        // A miss returns the complement of the first larger entry: that entry's rank is the draw.
        return Math.Min(rank < 0 ? ~rank : rank, _cumulative.Length - 1);
    }
}

using System.Numerics.Tensors;
using Recommender.Abstractions;
using Recommender.Grains.Ranking;

namespace Recommender.Grains.Items;

/// <summary>
/// A shard's rows: every vector in one contiguous float[] (grown by doubling), with each row's external id and
/// title, so that a scan returns presentable results without further lookups. With cosine similarity every row
/// is stored normalised, and a dot product is then the cosine.
/// </summary>
public sealed class ItemMatrix(int dimension, bool normalise)
{
    private float[] _vectors = new float[dimension * 16];
    private readonly List<string> _ids = [];
    private readonly List<string> _titles = [];
    private readonly Dictionary<string, int> _rows = new(StringComparer.Ordinal);

    public int Dimension { get; } = dimension;

    public bool Normalise { get; } = normalise;

    public int Count => _ids.Count;

    public bool TryGetRow(string itemId, out int row) => _rows.TryGetValue(itemId, out row);

    /// <summary>Adds a row, or updates the title (and the vector, when one is given) of an existing one; returns the row.</summary>
    public int Upsert(string itemId, string title, ReadOnlySpan<float> vector)
    {
        if (_rows.TryGetValue(itemId, out var row))
        {
            _titles[row] = title;
            if (!vector.IsEmpty) Store(row, vector);
            return row;
        }
        if (vector.IsEmpty) throw new ArgumentException($"Item '{itemId}' is new to this shard and needs a vector.", nameof(vector));
        row = _ids.Count;
        if ((row + 1) * Dimension > _vectors.Length) Array.Resize(ref _vectors, Math.Max(_vectors.Length * 2, (row + 1) * Dimension));
        _ids.Add(itemId);
        _titles.Add(title);
        _rows[itemId] = row;
        Store(row, vector);
        return row;
    }

    public void SetTitle(string itemId, string title)
    {
        if (_rows.TryGetValue(itemId, out var row)) _titles[row] = title;
    }

    public ReadOnlySpan<float> Vector(int row) => _vectors.AsSpan(row * Dimension, Dimension);

    /// <summary>The best <paramref name="k"/> rows for <paramref name="query"/>, skipping the listed item ids.</summary>
    public ScoredItem[] TopK(ReadOnlySpan<float> query, int k, IEnumerable<string> exclude)
    {
        HashSet<int>? excluded = null;
        foreach (var id in exclude)
            if (_rows.TryGetValue(id, out var row)) (excluded ??= []).Add(row);
        var best = TopKScanner.Scan(_vectors, Dimension, Count, query, k, excluded);
        var result = new ScoredItem[best.Length];
        for (var i = 0; i < best.Length; i++) result[i] = new ScoredItem(_ids[best[i].Row], _titles[best[i].Row], best[i].Score);
        return result;
    }

    private void Store(int row, ReadOnlySpan<float> vector)
    {
        if (vector.Length != Dimension) throw new ArgumentException($"Vector has {vector.Length} values; this model's dimension is {Dimension}.", nameof(vector));
        var target = _vectors.AsSpan(row * Dimension, Dimension);
        vector.CopyTo(target);
        if (!Normalise) return;
        var norm = TensorPrimitives.Norm(target);
        if (norm > 0) TensorPrimitives.Divide(target, norm, target);
    }
}

using System.Numerics.Tensors;

namespace Recommender.Cluster.Tests.Traffic;

/// <summary>A reference answer: an item and its similarity to the query.</summary>
public readonly record struct ReferenceItem(string Id, float Similarity);

/// <summary>
/// The exact top-K by scanning every vector: the reference the sharded search must equal. Vectors are normalised
/// when the model scores by cosine; the arithmetic is the same single-precision TensorPrimitives the shards use, so
/// that equal inputs give bit-equal similarities and the comparison can be exact. Order: similarity descending,
/// then item id (ordinal).
/// </summary>
public sealed class BruteForceRanking
{
    private readonly List<(string Id, float[] Vector)> _rows = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    public BruteForceRanking(int dimension, bool cosine)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        Dimension = dimension;
        Cosine = cosine;
    }

    public int Dimension { get; }

    public bool Cosine { get; }

    public int Count => _rows.Count;

    public void Add(string id, ReadOnlySpan<float> vector)
    {
        if (vector.Length != Dimension) throw new ArgumentException($"'{id}' has {vector.Length} values, not {Dimension}.", nameof(vector));
        var row = Prepare(vector);
        if (_index.TryGetValue(id, out var at)) _rows[at] = (id, row);
        else
        {
            _index[id] = _rows.Count;
            _rows.Add((id, row));
        }
    }

    /// <summary>The query as it is scanned: normalised for cosine.</summary>
    public float[] Prepare(ReadOnlySpan<float> vector)
    {
        var copy = vector.ToArray();
        if (Cosine)
        {
            var norm = TensorPrimitives.Norm(copy);
            if (norm > 0) TensorPrimitives.Divide(copy, norm, copy);
        }
        return copy;
    }

    /// <summary>The stored (prepared) vector of an item.</summary>
    public float[] Vector(string id) => _rows[_index[id]].Vector;

    public IReadOnlyList<ReferenceItem> TopK(ReadOnlySpan<float> query, int k, IReadOnlySet<string> exclude)
    {
        var prepared = Prepare(query);
        var scored = new List<ReferenceItem>(_rows.Count);
        foreach (var (id, vector) in _rows)
            if (!exclude.Contains(id)) scored.Add(new ReferenceItem(id, TensorPrimitives.Dot(vector, prepared)));
        return scored
            .OrderByDescending(s => s.Similarity)
            .ThenBy(s => s.Id, StringComparer.Ordinal)
            .Take(k)
            .ToArray();
    }

    /// <summary>Items nearest to a stored item, the item itself excluded.</summary>
    public IReadOnlyList<ReferenceItem> Similar(string id, int k) => TopK(Vector(id), k, new HashSet<string>(StringComparer.Ordinal) { id });
}

using System.Numerics.Tensors;

namespace Recommender.Model.Evaluation;

/// <summary>Scores items by the dot product of an encoded user vector with each item vector (cosine when both are unit length).</summary>
public sealed class EmbeddingScorer(string name, Func<IReadOnlyList<int[]>, float[]> encode, float[] itemEmbeddings, int dimension) : INextItemScorer
{
    public string Name { get; } = name;

    public int ItemCount { get; } = itemEmbeddings.Length / dimension;

    public float[] Score(IReadOnlyList<int[]> histories)
    {
        var users = encode(histories);
        if (users.Length != histories.Count * dimension)
            throw new InvalidOperationException($"The encoder returned {users.Length} values for {histories.Count} histories of dimension {dimension}.");
        var scores = new float[histories.Count * ItemCount];
        Parallel.For(0, histories.Count, b =>
        {
            var user = users.AsSpan(b * dimension, dimension);
            var row = scores.AsSpan(b * ItemCount, ItemCount);
            for (var j = 0; j < row.Length; j++)
                row[j] = TensorPrimitives.Dot(user, itemEmbeddings.AsSpan(j * dimension, dimension));
        });
        return scores;
    }
}

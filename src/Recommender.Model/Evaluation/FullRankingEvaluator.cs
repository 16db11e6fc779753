using System.Numerics.Tensors;
using Recommender.Model.Data;

namespace Recommender.Model.Evaluation;

/// <summary>
/// Leave-one-out evaluation against the whole catalogue (the gSASRec protocol): every item is scored,
/// the items already in the user's history are removed from the ranking, and the rank of the held-out
/// item is recorded. The encoder is a parameter so that the same protocol serves the trainer's forward
/// (validation) and ONNX Runtime (reported results).
/// </summary>
public static class FullRankingEvaluator
{
    /// <param name="encode">Histories → row-major user vectors [count, dimension].</param>
    /// <param name="itemEmbeddings">Row-major [itemCount, dimension]; row i is dense item i + 1.</param>
    /// <param name="batchSize">Histories encoded per call.</param>
    public static RankingMetrics Evaluate(
        Func<IReadOnlyList<int[]>, float[]> encode,
        float[] itemEmbeddings,
        int dimension,
        IReadOnlyList<EvaluationCase> cases,
        bool removeSeen = true,
        int batchSize = 256,
        params int[] cutoffs)
    {
        ArgumentNullException.ThrowIfNull(encode);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (itemEmbeddings.Length % dimension != 0) throw new ArgumentException("Embedding length is not a multiple of the dimension.", nameof(itemEmbeddings));
        var itemCount = itemEmbeddings.Length / dimension;
        var total = new RankingMetrics(cutoffs);
        for (var start = 0; start < cases.Count; start += batchSize)
        {
            var batch = cases.Skip(start).Take(batchSize).ToArray();
            foreach (var c in batch)
                if (c.Target < 1 || c.Target > itemCount)
                    throw new ArgumentException($"Target item {c.Target} is outside 1..{itemCount}.", nameof(cases));
            var users = encode(batch.Select(c => c.History).ToArray());
            if (users.Length != batch.Length * dimension)
                throw new InvalidOperationException($"The encoder returned {users.Length} values for {batch.Length} histories of dimension {dimension}.");
            var ranks = new int[batch.Length];
            Parallel.For(0, batch.Length,
                () => new float[itemCount],
                (i, _, scores) =>
                {
                    ranks[i] = RankOf(users.AsSpan(i * dimension, dimension), itemEmbeddings, dimension, batch[i], removeSeen, scores);
                    return scores;
                },
                _ => { });
            // Summed in case order, so that the same model always scores the same to the last bit (early stopping
            // compares these sums), whatever the order the threads finished in.
            foreach (var rank in ranks) total.Add(rank);
        }
        return total;
    }

    /// <summary>0-based rank of the case's target among all items (seen items removed when asked); ties count against the target.</summary>
    public static int RankOf(ReadOnlySpan<float> user, float[] itemEmbeddings, int dimension, EvaluationCase testCase, bool removeSeen, float[] scores)
    {
        var itemCount = scores.Length;
        for (var j = 0; j < itemCount; j++)
            scores[j] = TensorPrimitives.Dot(user, itemEmbeddings.AsSpan(j * dimension, dimension));
        var target = testCase.Target - 1;
        var targetScore = scores[target];
        if (removeSeen)
            foreach (var seen in testCase.History)
                if (seen - 1 != target && seen >= 1 && seen <= itemCount)
                    scores[seen - 1] = float.NegativeInfinity;
        var rank = 0;
        for (var j = 0; j < itemCount; j++)
            if (j != target && scores[j] >= targetScore) rank++;
        return rank;
    }
}

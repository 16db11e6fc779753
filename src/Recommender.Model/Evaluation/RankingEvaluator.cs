using Recommender.Model.Data;

namespace Recommender.Model.Evaluation;

/// <summary>
/// Leave-one-out evaluation of any <see cref="INextItemScorer"/> under either protocol. Ties count against the
/// target (a constant scorer ranks it last, never first). Sampling is seeded per case, so results do not
/// depend on batching or thread scheduling.
/// </summary>
public static class RankingEvaluator
{
    public const int SampledNegatives = 100;

    public static RankingMetrics Evaluate(
        INextItemScorer scorer,
        IReadOnlyList<EvaluationCase> cases,
        RankingProtocol protocol,
        int seed = 42,
        int negatives = SampledNegatives,
        int batchSize = 256,
        params int[] cutoffs)
        => RankingMetrics.FromRanks(Ranks(scorer, cases, protocol, seed, negatives, batchSize), cutoffs);

    /// <summary>
    /// The 0-based rank of each case's target, in the order of <paramref name="cases"/>: what the metrics are
    /// averaged from, kept per case for error analysis and for resampling the cases.
    /// </summary>
    public static int[] Ranks(
        INextItemScorer scorer,
        IReadOnlyList<EvaluationCase> cases,
        RankingProtocol protocol,
        int seed = 42,
        int negatives = SampledNegatives,
        int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var itemCount = scorer.ItemCount;
        for (var i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            if (c.Target < 1 || c.Target > itemCount)
                throw new ArgumentException($"Case {i}: target item {c.Target} is outside the vocabulary 1..{itemCount}.", nameof(cases));
            foreach (var item in c.History)
                if (item < 1 || item > itemCount)
                    throw new ArgumentException($"Case {i}: history item {item} is outside the vocabulary 1..{itemCount}.", nameof(cases));
        }
        var ranks = new int[cases.Count];
        for (var start = 0; start < cases.Count; start += batchSize)
        {
            var count = Math.Min(batchSize, cases.Count - start);
            var histories = new int[count][];
            for (var i = 0; i < count; i++) histories[i] = cases[start + i].History;
            var scores = scorer.Score(histories);
            if (scores.Length != (long)count * itemCount)
                throw new InvalidOperationException($"{scorer.Name} returned {scores.Length} scores for {count} histories of {itemCount} items.");
            for (var i = 0; i < count; i++)
            {
                var row = scores.AsSpan(i * itemCount, itemCount);
                var c = cases[start + i];
                ranks[start + i] = protocol == RankingProtocol.Full
                    ? FullRank(row, c)
                    : SampledRank(row, c.Target, SampleNegatives(c, itemCount, negatives, CaseSeed(seed, start + i)));
            }
        }
        return ranks;
    }

    /// <summary>0-based rank of the target among all items other than those in the history.</summary>
    public static int FullRank(ReadOnlySpan<float> scores, EvaluationCase testCase)
    {
        var target = testCase.Target - 1;
        var targetScore = scores[target];
        var seen = new HashSet<int>(testCase.History);
        var rank = 0;
        for (var j = 0; j < scores.Length; j++)
            if (j != target && scores[j] >= targetScore && !seen.Contains(j + 1)) rank++;
        return rank;
    }

    /// <summary>0-based rank of the target among the sampled negatives (dense ids).</summary>
    public static int SampledRank(ReadOnlySpan<float> scores, int target, int[] negatives)
    {
        var targetScore = scores[target - 1];
        var rank = 0;
        foreach (var item in negatives)
            if (scores[item - 1] >= targetScore) rank++;
        return rank;
    }

    /// <summary>Distinct items drawn uniformly from those neither in the history nor the target (fewer if the catalogue is small).</summary>
    public static int[] SampleNegatives(EvaluationCase testCase, int itemCount, int negatives, int seed)
    {
        var excluded = new HashSet<int>(testCase.History) { testCase.Target };
        var available = itemCount - excluded.Count(i => i >= 1 && i <= itemCount);
        var wanted = Math.Min(negatives, available);
        var random = new Random(seed);
        var chosen = new HashSet<int>();
        if (wanted > available / 2)
        {
            // Dense case: shuffle the candidates rather than reject repeatedly.
            var pool = Enumerable.Range(1, itemCount).Where(i => !excluded.Contains(i)).ToArray();
            random.Shuffle(pool);
            return pool[..wanted];
        }
        while (chosen.Count < wanted)
        {
            var item = random.Next(1, itemCount + 1);
            if (!excluded.Contains(item)) chosen.Add(item);
        }
        return chosen.ToArray();
    }

    private static int CaseSeed(int seed, int index) => unchecked(seed * 1_000_003 + index);
}

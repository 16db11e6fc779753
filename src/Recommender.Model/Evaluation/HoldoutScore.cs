using Recommender.Model.Data;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;

namespace Recommender.Model.Evaluation;

/// <summary>
/// Scores a package on leave-one-out cases written in another id space, a split's dense ids named by the catalogue's
/// ids: so that two packages trained on different days (different items, different dense ids) are compared on the same
/// users. A history keeps the items the package knows, as serving reads it; a case whose target the package does not
/// know, or whose history holds none of its items, is a miss.
/// </summary>
public static class HoldoutScore
{
    /// <summary>The rank of a miss: after every item and past every cut-off (its reciprocal rank is about 0).</summary>
    public const int MissRank = int.MaxValue - 1;

    /// <param name="caseIds">The catalogue id of each dense id of <paramref name="cases"/> (index 0 = dense id 1).</param>
    /// <returns>The metrics over all cases, and how many were misses because the package does not know their items.</returns>
    public static (RankingMetrics Metrics, int Unknown) Evaluate(ModelPackage package, IReadOnlyList<EvaluationCase> cases, IReadOnlyList<string> caseIds,
        int threads, params int[] cutoffs)
    {
        ArgumentNullException.ThrowIfNull(package);
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentNullException.ThrowIfNull(caseIds);
        var row = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < package.Manifest.ItemIds.Count; i++) row.TryAdd(package.Manifest.ItemIds[i], i + 1);
        int? Known(int dense) => dense >= 1 && dense <= caseIds.Count && row.TryGetValue(caseIds[dense - 1], out var r) ? r : null;

        var mapped = new List<EvaluationCase>(cases.Count);
        var unknown = 0;
        foreach (var c in cases)
        {
            var history = c.History.Select(Known).OfType<int>().ToArray();
            if (Known(c.Target) is { } target && history.Length > 0) mapped.Add(new EvaluationCase(history, target));
            else unknown++;
        }
        var ranks = new List<int>(cases.Count);
        if (mapped.Count > 0)
        {
            using var encoder = new OnnxEncoder(package, new OnnxThreading(threads));
            var scorer = new EmbeddingScorer(package.Manifest.Version, encoder.Encode, package.ItemEmbeddings, package.Manifest.Dimension);
            ranks.AddRange(RankingEvaluator.Ranks(scorer, mapped, RankingProtocol.Full));
        }
        ranks.AddRange(Enumerable.Repeat(MissRank, unknown));
        return (RankingMetrics.FromRanks(ranks, cutoffs), unknown);
    }
}

using Recommender.Model.Data;
using Recommender.Model.Evaluation;
using Recommender.Model.Onnx;
using Recommender.Model.Sasrec;

namespace Recommender.Model.Tests.Evaluation;

/// <summary>A package scored on cases of another id space: histories read as the package knows them, unknown items as misses.</summary>
public sealed class HoldoutScoreTests
{
    private static Packaging.ModelPackage Package(string[] ids) =>
        SasRecExporter.Export(new SasRecModel(new SasRecConfig { ItemCount = ids.Length, MaxLength = 8, Dimension = 8, Blocks = 1 }, seed: 3), ids, "v", null, null);

    [Fact]
    public void Cases_are_read_in_the_packages_ids_and_items_it_does_not_know_are_misses()
    {
        var package = Package(["a", "b", "c", "d", "e", "f"]);
        // Dense ids of the split: 1 = c, 2 = a, 3 = x (not in the package), 4 = b, 5 = f.
        string[] caseIds = ["c", "a", "x", "b", "f"];
        EvaluationCase[] cases =
        [
            new([1, 3, 4], 2),  // c, x, b -> a: the package reads c, b
            new([3], 1),        // x -> c: nothing it knows in the history
            new([2], 3),        // a -> x: a target it does not know
            new([5, 2], 4),     // f, a -> b
        ];
        var (metrics, unknown) = HoldoutScore.Evaluate(package, cases, caseIds, threads: 1, 1, 3, 6);
        Assert.Equal(2, unknown);
        Assert.Equal(4, metrics.Count);

        // The same as the two known cases written in the package's own rows (a=1 … f=6), with two misses beside them.
        using var encoder = new OnnxEncoder(package);
        var scorer = new EmbeddingScorer("v", encoder.Encode, package.ItemEmbeddings, package.Manifest.Dimension);
        var ranks = RankingEvaluator.Ranks(scorer, [new EvaluationCase([3, 2], 1), new EvaluationCase([6, 1], 2)], RankingProtocol.Full);
        var expected = RankingMetrics.FromRanks([.. ranks, HoldoutScore.MissRank, HoldoutScore.MissRank], 1, 3, 6);
        foreach (var k in new[] { 1, 3, 6 })
        {
            Assert.Equal(expected.HitRate(k), metrics.HitRate(k), 12);
            Assert.Equal(expected.Ndcg(k), metrics.Ndcg(k), 12);
        }
        // Both known targets are among the at most four items left once the history is removed: found by 6, never a miss.
        Assert.Equal(0.5, metrics.HitRate(6), 12);
        Assert.Equal(expected.Mrr, metrics.Mrr, 12);
    }

    [Fact]
    public void A_package_that_knows_none_of_the_items_scores_zero()
    {
        var (metrics, unknown) = HoldoutScore.Evaluate(Package(["p", "q"]), [new EvaluationCase([1], 2)], ["a", "b"], threads: 1, 10);
        Assert.Equal(1, unknown);
        Assert.Equal(0, metrics.Ndcg(10));
        Assert.Equal(0, metrics.HitRate(10));
        Assert.True(metrics.Mrr < 1e-9);
    }
}

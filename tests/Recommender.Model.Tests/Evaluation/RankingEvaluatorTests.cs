using Recommender.Model.Baselines;
using Recommender.Model.Data;
using Recommender.Model.Evaluation;
using Recommender.Model.Tests.Data;

namespace Recommender.Model.Tests.Evaluation;

public sealed class RankingEvaluatorTests
{
    /// <summary>Scores read from a table: the same scores for every history.</summary>
    private sealed class FixedScorer(float[] scores) : INextItemScorer
    {
        public string Name => "fixed";
        public int ItemCount => scores.Length;
        public float[] Score(IReadOnlyList<int[]> histories) => histories.SelectMany(_ => scores).ToArray();
    }

    [Fact]
    public void Metrics_match_hand_computed_values()
    {
        var metrics = new RankingMetrics(1, 5, 10);
        foreach (var rank in new[] { 0, 2, 10 }) metrics.Add(rank);
        Assert.Equal(1 / 3.0, metrics.HitRate(1), 12);
        Assert.Equal(2 / 3.0, metrics.HitRate(5), 12);
        Assert.Equal(2 / 3.0, metrics.HitRate(10), 12); // rank 10 is the 11th place
        Assert.Equal((1 + 1 / Math.Log2(4)) / 3, metrics.Ndcg(5), 12); // (1 + 0.5) / 3
        Assert.Equal((1 + 1 / 3.0 + 1 / 11.0) / 3, metrics.Mrr, 12);
    }

    [Fact]
    public void Full_ranking_removes_seen_items_and_counts_ties_against_the_target()
    {
        var scorer = new FixedScorer([5, 4, 3, 2, 1]);
        var metrics = RankingEvaluator.Evaluate(scorer, [new EvaluationCase([1], 3)], RankingProtocol.Full, cutoffs: [1, 2]);
        Assert.Equal(1.0, metrics.HitRate(2)); // only item 2 stays above item 3 once item 1 is removed
        Assert.Equal(0.0, metrics.HitRate(1));
        Assert.Equal(1 / Math.Log2(3), metrics.Ndcg(2), 12);
        Assert.Equal(4, RankingEvaluator.FullRank([1f, 1, 1, 1, 1], new EvaluationCase([], 2)));
    }

    [Fact]
    public void Full_ranking_agrees_with_the_embedding_evaluator()
    {
        var random = new Random(3);
        const int items = 50, dimension = 6;
        var embeddings = Enumerable.Range(0, items * dimension).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var cases = Enumerable.Range(0, 400).Select(_ => new EvaluationCase(Enumerable.Range(0, 5).Select(_ => random.Next(1, items + 1)).ToArray(), random.Next(1, items + 1))).ToList();
        float[] Encode(IReadOnlyList<int[]> histories) =>
            histories.SelectMany(h => Enumerable.Range(0, dimension).Select(k => h.Sum(i => embeddings[(i - 1) * dimension + k]))).ToArray();
        var expected = FullRankingEvaluator.Evaluate(Encode, embeddings, dimension, cases, removeSeen: true, batchSize: 7, 1, 5, 10);
        var actual = RankingEvaluator.Evaluate(new EmbeddingScorer("sum", Encode, embeddings, dimension), cases, RankingProtocol.Full, batchSize: 9, cutoffs: [1, 5, 10]);
        Assert.Equal(expected.ToDictionary().Keys, actual.ToDictionary().Keys);
        foreach (var (name, value) in expected.ToDictionary())
            Assert.Equal(value, actual.ToDictionary()[name]); // to the last bit: both sum the cases in order
        Assert.True(actual.HitRate(10) > 0);
    }

    [Fact]
    public void Ranks_are_the_per_case_values_the_metrics_average()
    {
        var scorer = new FixedScorer([5, 4, 3, 2, 1]);
        EvaluationCase[] cases = [new([1], 3), new([], 1), new([2, 3], 5), new([], 5)];
        var ranks = RankingEvaluator.Ranks(scorer, cases, RankingProtocol.Full, batchSize: 3);
        Assert.Equal([1, 0, 2, 4], ranks); // case 3: items 1 and 4 stay above 5 once 2 and 3 are removed
        var metrics = RankingEvaluator.Evaluate(scorer, cases, RankingProtocol.Full, cutoffs: [1, 3]);
        Assert.Equal(0.25, metrics.HitRate(1));
        Assert.Equal((1 / Math.Log2(3) + 1 + 1 / Math.Log2(4)) / 4, metrics.Ndcg(3), 12);
        Assert.Equal(ranks.Average(r => 1.0 / (r + 1)), metrics.Mrr, 12);

        var sampled = RankingEvaluator.Ranks(scorer, cases, RankingProtocol.Sampled, seed: 7, negatives: 2);
        Assert.Equal(sampled, RankingEvaluator.Ranks(scorer, cases, RankingProtocol.Sampled, seed: 7, negatives: 2, batchSize: 1));
        Assert.All(sampled, r => Assert.InRange(r, 0, 2));
        Assert.Equal(0, sampled[1]); // item 1 scores highest: no sampled item is above it
        Assert.Throws<ArgumentOutOfRangeException>(() => RankingEvaluator.Ranks(scorer, cases, RankingProtocol.Full, batchSize: 0));
    }

    [Fact]
    public void Sampled_negatives_are_distinct_unseen_and_seeded()
    {
        var testCase = new EvaluationCase([1, 2, 3, 4, 5], 6);
        var negatives = RankingEvaluator.SampleNegatives(testCase, 300, 100, seed: 9);
        Assert.Equal(100, negatives.Distinct().Count());
        Assert.All(negatives, i => Assert.InRange(i, 7, 300));
        Assert.Equal(negatives, RankingEvaluator.SampleNegatives(testCase, 300, 100, seed: 9));
        Assert.NotEqual(negatives, RankingEvaluator.SampleNegatives(testCase, 300, 100, seed: 10));
        // A catalogue smaller than the sample: every unseen item is used once.
        Assert.Equal([7, 8, 9, 10], RankingEvaluator.SampleNegatives(testCase, 10, 100, seed: 1).Order());
    }

    [Fact]
    public void Sampled_rank_estimates_the_fraction_of_items_above_the_target()
    {
        // 1,001 items; item 1 is the target and exactly 400 of the other 1,000 score above it.
        var scores = Enumerable.Range(1, 1001).Select(i => i == 1 ? 0.5f : i <= 401 ? 1f : 0f).ToArray();
        var cases = Enumerable.Range(0, 400).Select(_ => new EvaluationCase([], 1)).ToList();
        var sampled = RankingEvaluator.Evaluate(new FixedScorer(scores), cases, RankingProtocol.Sampled, seed: 5, cutoffs: [40]);
        var full = RankingEvaluator.Evaluate(new FixedScorer(scores), cases, RankingProtocol.Full, cutoffs: [40]);
        Assert.Equal(0.0, full.HitRate(40));
        // The sampled rank is Hypergeometric(100 of 1,000, 400 above): mean 40, so HR@40 is near one half.
        Assert.InRange(sampled.HitRate(40), 0.35, 0.65);
        var again = RankingEvaluator.Evaluate(new FixedScorer(scores), cases, RankingProtocol.Sampled, seed: 5, batchSize: 33, cutoffs: [40]);
        Assert.Equal(sampled.ToDictionary(), again.ToDictionary());
    }

    [Fact]
    public void Ids_outside_the_vocabulary_are_named()
    {
        var scorer = new FixedScorer([1, 2, 3]);
        var error = Assert.Throws<ArgumentException>(() => RankingEvaluator.Evaluate(scorer, [new EvaluationCase([1, 7], 2)], RankingProtocol.Full));
        Assert.Contains("history item 7", error.Message);
        error = Assert.Throws<ArgumentException>(() => RankingEvaluator.Evaluate(scorer, [new EvaluationCase([1], 4)], RankingProtocol.Full));
        Assert.Contains("target item 4", error.Message);
    }

    [Fact]
    public void Markov_follows_transitions_from_the_last_item_and_backs_off_to_popularity()
    {
        var train = new SequenceDataset([[1, 2, 3], [1, 2, 4], [1, 3]], SequenceDataset.IdentityVocabulary(5));
        var markov = new MarkovScorer(train).Score([[5, 1], [5]]);
        // After item 1: item 2 twice, item 3 once; popularity: 1 (3), 2 (2), 3 (2), 4 (1), 5 (0).
        int[] Order(ReadOnlySpan<float> row) => row.ToArray().Select((s, j) => (s, item: j + 1)).OrderByDescending(p => p.s).Select(p => p.item).ToArray();
        Assert.Equal([2, 3, 1, 4, 5], Order(markov.AsSpan(0, 5)));
        Assert.Equal([1, 2, 3, 4, 5], Order(markov.AsSpan(5, 5)));
        var popular = new MostPopularScorer(train).Score([[2]]);
        Assert.Equal([3f, 2, 2, 1, 0], popular);
    }

    [Fact]
    public void Markov_beats_popularity_on_movielens_1m()
    {
        var root = SharedData.Path("ml-1m-gsasrec");
        var train = InteractionLoader.Load(Path.Combine(root, "train", "input.txt"), InteractionFormat.Sequences);
        var cases = SequenceFile.ReadEvaluationCases(Path.Combine(root, "val", "input.txt"), Path.Combine(root, "val", "output.txt"));
        var padded = new SequenceDataset(train.Sequences, SequenceDataset.IdentityVocabulary(3416));
        var popular = RankingEvaluator.Evaluate(new MostPopularScorer(padded), cases, RankingProtocol.Full, cutoffs: [10]);
        var markov = RankingEvaluator.Evaluate(new MarkovScorer(padded), cases, RankingProtocol.Full, cutoffs: [10]);
        Assert.True(markov.Ndcg(10) > popular.Ndcg(10), $"markov NDCG@10 {markov.Ndcg(10):F4} <= popularity {popular.Ndcg(10):F4}");
        Assert.InRange(popular.Ndcg(10), 0.005, 0.2);
    }
}

using Recommender.Model.Nn;
using Recommender.Model.Sasrec;
using Recommender.Model.Training;

namespace Recommender.Model.Tests.Training;

public sealed class SampledSoftmaxLossTests
{
    /// <summary>
    /// Each position's loss is log(e^(s_t) + Σ e^(s_j + c_j)) − s_t, the sum over the step's sampled items other than
    /// the target (and, with seen items excluded, other than the items the user had by then), c_j = 0 for the H most
    /// frequent items and log((N − H)/(K − H)) for a drawn one.
    /// </summary>
    [Theory]
    [InlineData(false, 5, 0)]
    [InlineData(true, 5, 0)]
    [InlineData(true, 11, 0)]
    [InlineData(false, 6, 3)]
    [InlineData(true, 6, 3)]
    public void The_loss_is_the_softmax_over_the_target_and_the_sampled_items_with_the_sampling_correction(bool excludeSeen, int sampled, int head)
    {
        var (config, model, sequence, start, y) = SasRecModelTests.LossCase();
        int rows = config.MaxLength, d = config.Dimension;
        var loss = (SampledSoftmaxLoss)SequenceLoss.Create(LossKind.SoftmaxCrossEntropy, config.ItemCount, excludeSeen: excludeSeen, sampledItems: sampled, headItems: head);
        // Item 8 is the most frequent, then 2, then 5; the rest tie at one or none and go by id.
        loss.Observe([[8, 8, 8, 2, 2], [5, 8, 5, 2], [1]]);
        int[] frequent = [8, 2, 5];
        loss.Prepare(model, SplitMix.For(3, 4));
        var sample = loss.Sample.ToArray();
        Assert.Equal(sampled, sample.Length);
        Assert.Subset(sample.ToHashSet(), frequent.Take(head).ToHashSet());
        var drawnCorrection = Math.Log((double)(config.ItemCount - head) / (sampled - head));

        var expected = 0.0;
        for (var r = 0; r < rows; r++)
        {
            var target = sequence[start + 1 + r];
            var had = excludeSeen ? sequence.Take(start + r + 1).ToHashSet() : [];
            double Score(int item) => Enumerable.Range(0, d).Sum(c => (double)y[r * d + c] * model.ItemEmbedding.Data[item * d + c]);
            double Correction(int item) => frequent.Take(head).Contains(item) ? 0 : drawnCorrection;
            var others = sample.Where(i => i != target && !had.Contains(i)).Sum(i => Math.Exp(Score(i) + Correction(i)));
            expected += Math.Log(Math.Exp(Score(target)) + others) - Score(target);
        }

        var grads = model.Parameters.Select(p => new float[p.Data.Length]).ToArray();
        var actual = loss.CreateWorker(model).Compute(y, rows, sequence.AsSpan(start + 1, rows), sequence.AsSpan(0, start + rows), [], 1f, new float[rows * d], grads);
        Assert.Equal(expected, actual, 4);
    }

    [Fact]
    public void Each_step_draws_distinct_items_uniformly_and_the_same_generator_draws_the_same_ones()
    {
        var model = new SasRecModel(new SasRecConfig { ItemCount = 12, MaxLength = 4, Dimension = 8, FeedForwardDimension = 8 }, seed: 1);
        var loss = new SampledSoftmaxLoss(12, 5, excludeSeen: true);
        var counts = new int[13];
        const int draws = 6000;
        for (var step = 0; step < draws; step++)
        {
            loss.Prepare(model, SplitMix.For(9, step));
            var sample = loss.Sample.ToArray();
            Assert.Equal(5, sample.Length);
            Assert.Equal(sample.Order().Distinct(), sample);
            Assert.All(sample, i => Assert.InRange(i, 1, 12));
            foreach (var i in sample) counts[i]++;
        }
        // Each item is in a sample with probability 5/12: 2,500 of 6,000 draws, standard deviation about 38.
        Assert.All(counts.Skip(1), c => Assert.InRange(c, 2500 - 200, 2500 + 200));

        var headed = new SampledSoftmaxLoss(12, 5, excludeSeen: false, headItems: 2);
        Assert.Throws<InvalidOperationException>(() => headed.Prepare(model, SplitMix.For(9, 0)));
        headed.Observe([[4, 4, 4, 9, 9, 1]]);
        var tailCounts = new int[13];
        for (var step = 0; step < draws; step++)
        {
            headed.Prepare(model, SplitMix.For(9, step));
            Assert.Contains(4, headed.Sample.ToArray());
            Assert.Contains(9, headed.Sample.ToArray());
            foreach (var i in headed.Sample) tailCounts[i]++;
        }
        // Each of the other ten items is drawn with probability 3/10: 1,800 of 6,000, standard deviation about 35.
        Assert.All(Enumerable.Range(1, 12).Where(i => i is not (4 or 9)), i => Assert.InRange(tailCounts[i], 1800 - 200, 1800 + 200));

        loss.Prepare(model, SplitMix.For(9, 17));
        var first = loss.Sample.ToArray();
        loss.Prepare(model, SplitMix.For(9, 18));
        loss.Prepare(model, SplitMix.For(9, 17));
        Assert.Equal(first, loss.Sample.ToArray());
    }

    [Fact]
    public void A_sample_as_large_as_the_catalogue_is_the_full_softmax()
    {
        Assert.IsType<SampledSoftmaxLoss>(SequenceLoss.Create(LossKind.SoftmaxCrossEntropy, 12, sampledItems: 11));
        Assert.IsType<SoftmaxCrossEntropyLoss>(SequenceLoss.Create(LossKind.SoftmaxCrossEntropy, 12, sampledItems: 12));
        Assert.IsType<SoftmaxCrossEntropyLoss>(SequenceLoss.Create(LossKind.SoftmaxCrossEntropy, 12, sampledItems: 0));
    }

    [Fact]
    public void Sampling_is_refused_with_another_loss_a_spread_target_a_negative_size_or_cosine_scores()
    {
        Assert.Contains("softmax cross-entropy loss only, not Gbce", Assert.Throws<ArgumentException>(() => new TrainingOptions { Loss = LossKind.Gbce, SampledItems = 100 }.Validate()).Message);
        Assert.Contains("LabelSmoothing", Assert.Throws<ArgumentException>(() => new TrainingOptions { SampledItems = 100, LabelSmoothing = 0.1 }.Validate()).Message);
        Assert.Contains("FutureTargets", Assert.Throws<ArgumentException>(() => new TrainingOptions { SampledItems = 100, FutureTargets = 2 }.Validate()).Message);
        Assert.Contains("SampledItems is -1", Assert.Throws<ArgumentException>(() => new TrainingOptions { SampledItems = -1 }.Validate()).Message);
        Assert.Contains("SampledHeadItems is 100; it must be below SampledItems (100)", Assert.Throws<ArgumentException>(() => new TrainingOptions { SampledItems = 100, SampledHeadItems = 100 }.Validate()).Message);
        Assert.Contains("SampledHeadItems is 5; it must be below SampledItems (0)", Assert.Throws<ArgumentException>(() => new TrainingOptions { SampledHeadItems = 5 }.Validate()).Message);
        var cosine = new SasRecModel(new SasRecConfig { ItemCount = 12, MaxLength = 4, Dimension = 8, FeedForwardDimension = 8, Temperature = 0.1f }, seed: 1);
        Assert.Contains("full softmax", Assert.Throws<ArgumentException>(() => new SasRecTrainer(cosine, new TrainingOptions { SampledItems = 5 })).Message);
    }
}

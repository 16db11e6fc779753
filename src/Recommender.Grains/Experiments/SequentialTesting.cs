using Recommender.Abstractions;

namespace Recommender.Grains.Experiments;

/// <summary>
/// An always-valid p-value for an A/B test that is looked at as it runs: the mixture sequential probability ratio
/// test (mSPRT) over the difference of two rates. A fixed-horizon p-value holds for one look at a length set
/// beforehand; looking after every flush and stopping at the first p below 0.05 would call chance a difference in
/// about a third of tests. Here the difference's estimate Δ, with variance V (the buckets' delta-method variance of
/// both sides), is weighed against "no difference" by its likelihood ratio averaged over true differences drawn from
/// N(0, τ²): Λ = √(V / (V + τ²)) · exp(τ² Δ² / (2 V (V + τ²))). Under no difference Λ is a martingale, so the chance that
/// it ever reaches 1 / α is at most α (Ville's inequality), and p = min over the looks so far of 1 / Λ may be read
/// at any time, as often as wanted, and a test stopped as soon as it is below α.
/// </summary>
public static class SequentialTesting
{
    /// <summary>
    /// Buckets of users each side needs before the first look: the variance is estimated from the buckets, and from a
    /// handful of them it can be far too small by chance. The floor costs little: in simulated tests of alike sides
    /// looked at 200 times as users arrived five a side at a time, looks from 2, 8 or 32 buckets on rejected equally
    /// rarely (7, 5 and 7 of 400 tests at 0.05), and a real change is seldom found before 32 buckets anyway.
    /// </summary>
    public const int MinimumBuckets = 32;

    /// <summary>
    /// The test after one more look at the counts: unchanged until each side has <see cref="MinimumBuckets"/> buckets
    /// of users and a spread; τ² = (<paramref name="lift"/> × the control's rate)² at the first look (the mixture weighs
    /// differences about that large most, and the test finds them soonest) and fixed from then on; none while the
    /// control's rate is 0.
    /// </summary>
    public static SequentialTest? Look(SequentialTest? test, RateEstimate? candidate, RateEstimate? control, double lift)
    {
        if (candidate is not { Buckets: >= MinimumBuckets } c || control is not { Buckets: >= MinimumBuckets } k) return test;
        var variance = c.Variance + k.Variance;
        if (!(variance > 0)) return test;
        var mixing = test?.MixingVariance ?? Math.Pow(lift * k.Value, 2);
        if (!(mixing > 0)) return test;
        var p = Math.Min(test?.PValue ?? 1, Math.Exp(-LogLikelihoodRatio(c.Value - k.Value, variance, mixing)));
        return new SequentialTest(mixing, p, (test?.Looks ?? 0) + 1);
    }

    /// <summary>log Λ for a difference <paramref name="difference"/> of variance <paramref name="variance"/> under the N(0, τ²) mixture.</summary>
    public static double LogLikelihoodRatio(double difference, double variance, double mixing) =>
        0.5 * Math.Log(variance / (variance + mixing)) + mixing * difference * difference / (2 * variance * (variance + mixing));

    /// <summary>
    /// The always-valid 1 − <paramref name="alpha"/> confidence interval of the difference: the differences θ that the
    /// test, run against θ instead of 0, would not reject now, Δ ± √(V (V + τ²) / τ² · (ln((V + τ²) / V) + 2 ln(1 / α))).
    /// Wider than the fixed-horizon interval, by the price of looking at will.
    /// </summary>
    public static (double Low, double High) Interval(double difference, double variance, double mixing, double alpha)
    {
        var half = Math.Sqrt(variance * (variance + mixing) / mixing * (Math.Log((variance + mixing) / variance) - 2 * Math.Log(alpha)));
        return (difference - half, difference + half);
    }

    /// <summary>The run's tests after one more look at <paramref name="tally"/>.</summary>
    public static SequentialTests LookAt(ExperimentTally tally, double lift)
    {
        SequentialTest? Next(SequentialTest? test, Func<ArmTally, RateEstimate?> rate) => Look(test, rate(tally.CandidateArm), rate(tally.ControlArm), lift);
        var tests = tally.Sequential;
        return new SequentialTests(
            Next(tests?.HitRate, ExperimentComparison.HitRate),
            Next(tests?.MeanReciprocalRank, ExperimentComparison.MeanReciprocalRank),
            Next(tests?.DismissalsPerList, ExperimentComparison.DismissalsPerList),
            Next(tests?.PurchasesPerList, ExperimentComparison.PurchasesPerList),
            Next(tests?.RevenuePerList, ExperimentComparison.RevenuePerList));
    }
}

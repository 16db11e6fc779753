using MathNet.Numerics;
using Recommender.Abstractions;

namespace Recommender.Grains.Experiments;

/// <summary>A rate per next event on one side of a test (<see cref="Value"/>) and the variance of that estimate.</summary>
/// <param name="Buckets">Buckets of users that had events on that side.</param>
public readonly record struct RateEstimate(double Value, double Variance, int Buckets);

/// <summary>
/// One rate compared between the candidate and the control: the difference, candidate minus control, with its 95 %
/// confidence interval (<see cref="Low"/>, <see cref="High"/>) and the two-sided p-value of "no difference";
/// <see cref="RelativeDifference"/> is the difference over the control's rate (null when that is 0).
/// <see cref="MinimumDetectableDifference"/>: the smallest true difference the test as counted so far would find at
/// the 5 % level four times in five (80 % power); it shrinks as the square root of the events.
/// <see cref="SequentialPValue"/> and its interval (<see cref="SequentialLow"/>, <see cref="SequentialHigh"/>, 95 %)
/// are the always-valid ones of <see cref="SequentialTesting"/>: null until the run's sequential test has looked.
/// </summary>
public sealed record RateComparison(double Candidate, double Control, double Difference, double? RelativeDifference, double Low, double High, double PValue,
    double MinimumDetectableDifference, double? SequentialPValue = null, double? SequentialLow = null, double? SequentialHigh = null);

/// <summary>
/// Whether the users were split between the sides as drawn: <see cref="CandidateUsers"/> and
/// <see cref="ControlUsers"/> served a list of each side in the run (each user once), the share of them on the
/// candidate's side (<see cref="ObservedShare"/>) against the candidate's share when they were counted (its mean over
/// them, <see cref="ExpectedShare"/>), and the p-value of a split this far off by chance. Below <see cref="ExperimentComparison.SampleRatioMismatch"/> the sides
/// differ in something other than the model (lists lost on one side, a silo serving the wrong version, users of one
/// side failing to get a list at all), and no comparison of them can be trusted.
/// </summary>
public sealed record SampleRatio(long CandidateUsers, long ControlUsers, double ExpectedShare, double ObservedShare, double PValue)
{
    /// <summary>Whether the split is a mismatch: the cluster's level, so that no client keeps its own.</summary>
    public bool Mismatch => PValue < ExperimentComparison.SampleRatioMismatch;
}

/// <summary>
/// Compares the sides of an A/B test on a rate per next event (the share in the list served, the mean reciprocal rank).
/// A user's events are not independent of each other (a user who takes recommendations takes many), so treating
/// every event as its own trial would understate the variance and call chance a difference. Users are independent,
/// and each user's events all fall in one bucket: the rate's variance comes from the buckets as clusters, by
/// linearising the ratio of sums (the delta method), and the two sides' users are apart (a user stays on one side).
/// </summary>
public static class ExperimentComparison
{
    /// <summary>The two-sided 95 % quantile of the standard normal distribution.</summary>
    public const double Z95 = 1.959963984540054;

    /// <summary>The standard normal quantile at 0.8 (80 % power).</summary>
    public const double Z80 = 0.8416212335729143;

    /// <summary>
    /// The p-value below which a split of users is a sample ratio mismatch: strict, because the check runs at every
    /// look and a false alarm halts a sound test.
    /// </summary>
    public const double SampleRatioMismatch = 0.001;

    /// <summary>
    /// The users on each side against the shares they were drawn with: each user, counted once when a list of the run
    /// first reached them, was on the candidate's side with the chance s, the share then (users drawn apart), so the
    /// candidate's users have the mean Σ s and the variance Σ s (1 − s), and z = (candidate users − Σ s) / √(Σ s (1 − s))
    /// (with one share throughout, the χ² test of one degree of freedom). A raised share changes nothing: a user is
    /// counted at the share of the first list. Null when no user was counted.
    /// </summary>
    public static SampleRatio? SplitOf(ExperimentTally tally)
    {
        var (candidate, control) = (tally.CandidateArm.UsersServed.Sum(), tally.ControlArm.UsersServed.Sum());
        var users = candidate + control;
        if (users == 0) return null;
        var (expected, spread) = (tally.ExpectedCandidateUsers, Math.Sqrt(tally.SplitVariance));
        var p = spread > 0 ? SpecialFunctions.Erfc(Math.Abs(candidate - expected) / spread / Math.Sqrt(2)) : Math.Abs(candidate - expected) < 0.5 ? 1 : 0;
        return new SampleRatio(candidate, control, expected / users, (double)candidate / users, p);
    }

    /// <summary>
    /// The rate Σ metric / Σ events over the buckets, and its variance
    /// G / (G − 1) · Σ_b (metric_b − rate · events_b)² / (Σ events)², G the buckets with events; null without events.
    /// </summary>
    public static RateEstimate? Rate(IReadOnlyList<long> events, IReadOnlyList<double> metric)
    {
        if (events.Count != metric.Count) throw new ArgumentException("The event counts and the metric need a value for every bucket.", nameof(metric));
        double totalEvents = 0, totalMetric = 0;
        var buckets = 0;
        for (var b = 0; b < events.Count; b++)
        {
            totalEvents += events[b];
            totalMetric += metric[b];
            if (events[b] > 0) buckets++;
        }
        if (totalEvents == 0) return null;
        var rate = totalMetric / totalEvents;
        if (buckets < 2) return new RateEstimate(rate, double.NaN, buckets);
        double squares = 0;
        for (var b = 0; b < events.Count; b++)
        {
            var residual = metric[b] - rate * events[b];
            squares += residual * residual;
        }
        return new RateEstimate(rate, buckets / (buckets - 1.0) * squares / (totalEvents * totalEvents), buckets);
    }

    /// <summary>
    /// The candidate's rate against the control's; null until each side has events in at least two buckets (no
    /// variance can be estimated from fewer).
    /// </summary>
    public static RateComparison? Compare(RateEstimate? candidate, RateEstimate? control)
    {
        if (candidate is not { Buckets: >= 2 } c || control is not { Buckets: >= 2 } k) return null;
        var difference = c.Value - k.Value;
        var error = Math.Sqrt(c.Variance + k.Variance);
        // Without spread on either side the difference is certain: there is nothing it could be chance of.
        var p = error > 0 ? SpecialFunctions.Erfc(Math.Abs(difference) / error / Math.Sqrt(2)) : difference == 0 ? 1 : 0;
        return new RateComparison(c.Value, k.Value, difference, k.Value == 0 ? null : difference / k.Value,
            difference - Z95 * error, difference + Z95 * error, p, (Z95 + Z80) * error);
    }

    /// <summary>
    /// <see cref="Compare(RateEstimate?, RateEstimate?)"/> with the always-valid p-value of <paramref name="sequential"/>
    /// and the always-valid 95 % interval at the counts now.
    /// </summary>
    public static RateComparison? Compare(RateEstimate? candidate, RateEstimate? control, SequentialTest? sequential)
    {
        var comparison = Compare(candidate, control);
        if (comparison is null || sequential is null) return comparison;
        var variance = candidate!.Value.Variance + control!.Value.Variance;
        if (!(variance > 0)) return comparison with { SequentialPValue = sequential.PValue };
        var (low, high) = SequentialTesting.Interval(comparison.Difference, variance, sequential.MixingVariance, 0.05);
        return comparison with { SequentialPValue = sequential.PValue, SequentialLow = low, SequentialHigh = high };
    }

    /// <summary>The share of next events that were in the list served.</summary>
    public static RateEstimate? HitRate(ArmTally arm) => Rate(arm.Events, [.. arm.Hits.Select(h => (double)h)]);

    /// <summary>The mean over next events of 1 / the item's rank in the list served (0 when it was not in the list).</summary>
    public static RateEstimate? MeanReciprocalRank(ArmTally arm) => Rate(arm.Events, arm.ReciprocalRanks);

    /// <summary>Listed items dismissed per list served: how often a side's lists put off the users they were shown to.</summary>
    public static RateEstimate? DismissalsPerList(ArmTally arm) => Rate(arm.ListsServed, [.. arm.ItemsDismissed.Select(d => (double)d)]);

    /// <summary>Listed items bought per list served (within the next-item window): how much a side's lists sell.</summary>
    public static RateEstimate? PurchasesPerList(ArmTally arm) => Rate(arm.ListsServed, [.. arm.ItemsPurchased.Select(p => (double)p)]);

    /// <summary>The amount paid for listed items bought (within the next-item window) per list served: what a side's lists earn.</summary>
    public static RateEstimate? RevenuePerList(ArmTally arm) => Rate(arm.ListsServed, arm.AmountPaid);
}

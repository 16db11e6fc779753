namespace Recommender.Abstractions;

/// <summary>
/// The side of a running A/B test that served a list: the candidate version, the active version beside it (the
/// control) and when the candidate began; <see cref="OnCandidate"/> says which of the two ranked the list, and
/// <see cref="Share"/> the candidate's share of the users then (null from a silo that did not say).
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.experiment-arm")]
public sealed record ExperimentArm(
    [property: Id(0)] string Candidate,
    [property: Id(1)] string Control,
    [property: Id(2)] DateTimeOffset Since,
    [property: Id(3)] bool OnCandidate,
    [property: Id(4)] double? Share = null);

/// <summary>
/// What one side's lists met, summed per bucket of users (a fixed hash of the user's id, <see cref="Buckets"/> of
/// them): users' next events after them, how many of those were in the list and the sum of 1 / rank over those; and
/// the lists served (first pages), the listed items users dismissed, those they bought and the amount paid for them (the
/// purchase events' values); and the users served a list, each once a run.
/// The buckets keep what the variance of a rate needs when one user's events are not independent of each other.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.arm-tally")]
public sealed record ArmTally(
    [property: Id(0)] long[] Events,
    [property: Id(1)] long[] Hits,
    [property: Id(2)] double[] ReciprocalRanks,
    [property: Id(3)] long[]? Lists = null,
    [property: Id(4)] long[]? Dismissals = null,
    [property: Id(5)] long[]? Users = null,
    [property: Id(6)] long[]? Purchases = null,
    [property: Id(7)] double[]? Revenue = null)
{
    public const int Buckets = 128;

    public static ArmTally Empty() =>
        new(new long[Buckets], new long[Buckets], new double[Buckets], new long[Buckets], new long[Buckets], new long[Buckets], new long[Buckets],
            new double[Buckets]);

    public long TotalEvents => Events.Sum();

    // Counts stored before lists and dismissals were kept have none: zeros.
    public long[] ListsServed => Lists ?? new long[Buckets];

    public long[] ItemsDismissed => Dismissals ?? new long[Buckets];

    // Counts stored before users were counted have none: zeros.
    public long[] UsersServed => Users ?? new long[Buckets];

    // Counts stored before purchases were counted have none: zeros.
    public long[] ItemsPurchased => Purchases ?? new long[Buckets];

    // Counts stored before purchases carried an amount have none: zeros.
    public double[] AmountPaid => Revenue ?? new double[Buckets];

    public ArmTally Plus(ArmTally other) => new(
        Sum(Events, other.Events), Sum(Hits, other.Hits), [.. ReciprocalRanks.Zip(other.ReciprocalRanks, (a, b) => a + b)],
        Sum(ListsServed, other.ListsServed), Sum(ItemsDismissed, other.ItemsDismissed), Sum(UsersServed, other.UsersServed),
        Sum(ItemsPurchased, other.ItemsPurchased), [.. AmountPaid.Zip(other.AmountPaid, (a, b) => a + b)]);

    private static long[] Sum(long[] a, long[] b) => [.. a.Zip(b, (x, y) => x + y)];
}

/// <summary>
/// The running state of an always-valid (sequential) test of one rate: the variance of the normal mixture over the
/// difference it weighs (fixed at its first look), the smallest p-value any look has given and how many looks there were.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.sequential-test")]
public sealed record SequentialTest(
    [property: Id(0)] double MixingVariance,
    [property: Id(1)] double PValue,
    [property: Id(2)] int Looks);

/// <summary>The sequential tests of a run's comparisons, updated by the run's grain on every flush it takes.</summary>
[GenerateSerializer, Immutable, Alias("recommender.sequential-tests")]
public sealed record SequentialTests(
    [property: Id(0)] SequentialTest? HitRate,
    [property: Id(1)] SequentialTest? MeanReciprocalRank,
    [property: Id(2)] SequentialTest? DismissalsPerList,
    [property: Id(3)] SequentialTest? PurchasesPerList = null,
    [property: Id(4)] SequentialTest? RevenuePerList = null);

/// <summary>
/// Both sides' counts of the lists read under one scenario (<c>scenario=NAME</c>) and what users did after them; users
/// are counted for the whole run only, so <see cref="ArmTally.Users"/> stays empty here.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.scenario-arms")]
public sealed record ScenarioArms(
    [property: Id(0)] ArmTally CandidateArm,
    [property: Id(1)] ArmTally ControlArm)
{
    /// <summary>The scenarios a run's counts are split by: the first this many met, by name (lists of others count in the run's totals only).</summary>
    public const int MaxPerRun = 20;

    public static ScenarioArms Empty() => new(ArmTally.Empty(), ArmTally.Empty());

    public ScenarioArms Plus(ScenarioArms other) => new(CandidateArm.Plus(other.CandidateArm), ControlArm.Plus(other.ControlArm));

    /// <summary>
    /// The split counts of <paramref name="a"/> and <paramref name="b"/> added up: every scenario of <paramref name="a"/>,
    /// and of the others of <paramref name="b"/> as many as <see cref="MaxPerRun"/> leaves room for, by name.
    /// </summary>
    public static IReadOnlyDictionary<string, ScenarioArms>? Plus(IReadOnlyDictionary<string, ScenarioArms>? a, IReadOnlyDictionary<string, ScenarioArms>? b)
    {
        if (b is null || b.Count == 0) return a;
        var sum = new Dictionary<string, ScenarioArms>(a ?? new Dictionary<string, ScenarioArms>(), StringComparer.Ordinal);
        foreach (var (name, arms) in b.OrderBy(s => s.Key, StringComparer.Ordinal))
            if (sum.TryGetValue(name, out var held)) sum[name] = held.Plus(arms);
            else if (sum.Count < MaxPerRun) sum[name] = arms;
        return sum;
    }
}

/// <summary>
/// One candidate run's counts for both sides, from <see cref="Since"/> on (the key of the run), and, once the run's
/// grain has looked at them, its sequential tests (null in a silo's flush). <see cref="ExpectedCandidateUsers"/> and
/// <see cref="SplitVariance"/>: over the users counted, the sum of the candidate's share when each was counted, s, and
/// of s (1 − s): the mean and variance of the candidate's users under a split as drawn, whatever the share did.
/// <see cref="Scenarios"/>: the same counts of the lists read under each scenario (<see cref="ScenarioArms"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.experiment-tally")]
public sealed record ExperimentTally(
    [property: Id(0)] string Candidate,
    [property: Id(1)] string Control,
    [property: Id(2)] DateTimeOffset Since,
    [property: Id(3)] ArmTally CandidateArm,
    [property: Id(4)] ArmTally ControlArm,
    [property: Id(5)] SequentialTests? Sequential = null,
    [property: Id(6)] double ExpectedCandidateUsers = 0,
    [property: Id(7)] double SplitVariance = 0,
    [property: Id(8)] IReadOnlyDictionary<string, ScenarioArms>? Scenarios = null)
{
    public ExperimentTally Plus(ExperimentTally other) => this with
    {
        CandidateArm = CandidateArm.Plus(other.CandidateArm),
        ControlArm = ControlArm.Plus(other.ControlArm),
        ExpectedCandidateUsers = ExpectedCandidateUsers + other.ExpectedCandidateUsers,
        SplitVariance = SplitVariance + other.SplitVariance,
        Scenarios = ScenarioArms.Plus(Scenarios, other.Scenarios),
    };
}

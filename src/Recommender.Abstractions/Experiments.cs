namespace Recommender.Abstractions;

/// <summary>
/// The side of a running A/B test that served a list: the candidate version, the active version beside it (the
/// control) and when the candidate began; <see cref="OnCandidate"/> says which of the two ranked the list.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.experiment-arm")]
public sealed record ExperimentArm(
    [property: Id(0)] string Candidate,
    [property: Id(1)] string Control,
    [property: Id(2)] DateTimeOffset Since,
    [property: Id(3)] bool OnCandidate);

/// <summary>
/// What one side's lists met, summed per bucket of users (a fixed hash of the user's id, <see cref="Buckets"/> of
/// them): users' next events after them, how many of those were in the list and the sum of 1 / rank over those; and
/// the lists served (first pages) and the listed items users dismissed. The buckets keep what the variance of a rate
/// needs when one user's events are not independent of each other.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.arm-tally")]
public sealed record ArmTally(
    [property: Id(0)] long[] Events,
    [property: Id(1)] long[] Hits,
    [property: Id(2)] double[] ReciprocalRanks,
    [property: Id(3)] long[]? Lists = null,
    [property: Id(4)] long[]? Dismissals = null)
{
    public const int Buckets = 128;

    public static ArmTally Empty() => new(new long[Buckets], new long[Buckets], new double[Buckets], new long[Buckets], new long[Buckets]);

    public long TotalEvents => Events.Sum();

    // Counts stored before lists and dismissals were kept have none: zeros.
    public long[] ListsServed => Lists ?? new long[Buckets];

    public long[] ItemsDismissed => Dismissals ?? new long[Buckets];

    public ArmTally Plus(ArmTally other) => new(
        Sum(Events, other.Events), Sum(Hits, other.Hits), [.. ReciprocalRanks.Zip(other.ReciprocalRanks, (a, b) => a + b)],
        Sum(ListsServed, other.ListsServed), Sum(ItemsDismissed, other.ItemsDismissed));

    private static long[] Sum(long[] a, long[] b) => [.. a.Zip(b, (x, y) => x + y)];
}

/// <summary>One candidate run's counts for both sides, from <see cref="Since"/> on (the key of the run).</summary>
[GenerateSerializer, Immutable, Alias("recommender.experiment-tally")]
public sealed record ExperimentTally(
    [property: Id(0)] string Candidate,
    [property: Id(1)] string Control,
    [property: Id(2)] DateTimeOffset Since,
    [property: Id(3)] ArmTally CandidateArm,
    [property: Id(4)] ArmTally ControlArm)
{
    public ExperimentTally Plus(ExperimentTally other) => this with
    {
        CandidateArm = CandidateArm.Plus(other.CandidateArm),
        ControlArm = ControlArm.Plus(other.ControlArm),
    };
}

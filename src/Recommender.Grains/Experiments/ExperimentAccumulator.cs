using Recommender.Abstractions;

namespace Recommender.Grains.Experiments;

/// <summary>
/// Each silo's in-memory counts of the lists served during an A/B test and what users did after them, by run, side
/// and bucket of users; drained every few seconds into the run's grain, so no grain sees every event.
/// </summary>
public sealed class ExperimentAccumulator
{
    private readonly Lock _lock = new();
    private Dictionary<(string Candidate, string Control, DateTimeOffset Since), Pending> _pending = [];

    /// <summary>
    /// Counts a next event after a list <paramref name="arm"/> served to a user of <paramref name="bucket"/>; <paramref name="rank"/>: the item's in the list.
    /// Here and below, <paramref name="scenario"/> is the scenario the list was read under (null: none), whose own counts it adds to as well.
    /// </summary>
    public void Record(ExperimentArm arm, int bucket, int? rank, string? scenario = null)
    {
        if (rank is < 1) throw new ArgumentOutOfRangeException(nameof(rank), rank, "A rank counts from 1.");
        Count(arm, bucket, scenario, side =>
        {
            side.Events[bucket]++;
            if (rank is { } r)
            {
                side.Hits[bucket]++;
                side.ReciprocalRanks[bucket] += 1.0 / r;
            }
        });
    }

    /// <summary>Counts a list (its first page) <paramref name="arm"/> served to a user of <paramref name="bucket"/>.</summary>
    public void Served(ExperimentArm arm, int bucket, string? scenario = null) => Count(arm, bucket, scenario, side => side.ListsServed[bucket]++);

    /// <summary>
    /// Counts a user of <paramref name="bucket"/> served a list of <paramref name="arm"/>'s side for the first time in
    /// the run, and the chance, the share then, that the draw put the user on the candidate's side.
    /// </summary>
    public void UserServed(ExperimentArm arm, int bucket)
    {
        var share = arm.Share ?? throw new ArgumentException("A user is counted with the share the run had then.", nameof(arm));
        Count(arm, bucket, scenario: null, (side, pending) =>
        {
            side.UsersServed[bucket]++;
            pending.ExpectedCandidateUsers += share;
            pending.SplitVariance += share * (1 - share);
        });
    }

    /// <summary>
    /// Counts an item of a list <paramref name="arm"/> served that a user of <paramref name="bucket"/> bought, and
    /// <paramref name="amount"/> paid for it (the purchase event's value; 0 when it carried none).
    /// </summary>
    public void Purchased(ExperimentArm arm, int bucket, double amount = 0, string? scenario = null)
    {
        if (!(amount >= 0) || double.IsInfinity(amount)) throw new ArgumentOutOfRangeException(nameof(amount), amount, "An amount paid is a finite number, 0 or more.");
        Count(arm, bucket, scenario, side =>
        {
            side.ItemsPurchased[bucket]++;
            side.AmountPaid[bucket] += amount;
        });
    }

    /// <summary>Counts an item of a list <paramref name="arm"/> served that a user of <paramref name="bucket"/> dismissed.</summary>
    public void Dismissed(ExperimentArm arm, int bucket, string? scenario = null) => Count(arm, bucket, scenario, side => side.ItemsDismissed[bucket]++);

    private void Count(ExperimentArm arm, int bucket, string? scenario, Action<ArmTally> add) =>
        Count(arm, bucket, scenario, (side, _) => add(side));

    private void Count(ExperimentArm arm, int bucket, string? scenario, Action<ArmTally, Pending> add)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bucket);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(bucket, ArmTally.Buckets);
        lock (_lock)
        {
            var key = (arm.Candidate, arm.Control, arm.Since);
            if (!_pending.TryGetValue(key, out var pending)) _pending[key] = pending = new Pending();
            add(arm.OnCandidate ? pending.Candidate : pending.Control, pending);
            if (scenario is null) return;
            // Past the run's limit of scenarios a silo keeps no split of another; its lists count in the totals above.
            if (!pending.Scenarios.TryGetValue(scenario, out var split))
            {
                if (pending.Scenarios.Count >= ScenarioArms.MaxPerRun) return;
                pending.Scenarios[scenario] = split = ScenarioArms.Empty();
            }
            add(arm.OnCandidate ? split.CandidateArm : split.ControlArm, pending);
        }
    }

    /// <summary>Takes everything counted so far, one tally per run.</summary>
    public IReadOnlyList<ExperimentTally> Drain()
    {
        Dictionary<(string Candidate, string Control, DateTimeOffset Since), Pending> drained;
        lock (_lock) (drained, _pending) = (_pending, []);
        return [.. drained.Select(p => new ExperimentTally(p.Key.Candidate, p.Key.Control, p.Key.Since, p.Value.Candidate, p.Value.Control,
            ExpectedCandidateUsers: p.Value.ExpectedCandidateUsers, SplitVariance: p.Value.SplitVariance,
            Scenarios: p.Value.Scenarios.Count == 0 ? null : p.Value.Scenarios))];
    }

    // Written in place under the lock until drained; a drained tally is never written again.
    private sealed class Pending
    {
        public ArmTally Candidate { get; } = ArmTally.Empty();

        public ArmTally Control { get; } = ArmTally.Empty();

        public double ExpectedCandidateUsers { get; set; }

        public double SplitVariance { get; set; }

        public Dictionary<string, ScenarioArms> Scenarios { get; } = new(StringComparer.Ordinal);
    }
}

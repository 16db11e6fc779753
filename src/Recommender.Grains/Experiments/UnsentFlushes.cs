using Recommender.Abstractions;

namespace Recommender.Grains.Experiments;

/// <summary>
/// A silo's A/B test counts on their way to the runs' grains, each flush under an id of its own. A flush whose answer
/// did not come back may have been stored all the same (the grain's silo dying between its write and its answer), so
/// it goes again exactly as it was, under the same id, which the grain recognises; summed into the next counts it
/// would count twice.
/// </summary>
public sealed class UnsentFlushes
{
    private readonly Lock _lock = new();
    private readonly List<(Guid Id, ExperimentTally Counts)> _unsent = [];

    /// <summary>
    /// What to send now: every flush not yet acknowledged, oldest first (so a run's grain takes one silo's flushes in
    /// order), then <paramref name="drained"/>, each under a new id; all of them stay here until <see cref="Sent"/>.
    /// </summary>
    public IReadOnlyList<(Guid Id, ExperimentTally Counts)> Take(IReadOnlyList<ExperimentTally> drained)
    {
        lock (_lock)
        {
            _unsent.AddRange(drained.Select(counts => (Guid.NewGuid(), counts)));
            return [.. _unsent];
        }
    }

    /// <summary>The grain acknowledged the flush <paramref name="id"/>: it is not sent again.</summary>
    public void Sent(Guid id)
    {
        lock (_lock) _unsent.RemoveAll(flush => flush.Id == id);
    }
}

using Microsoft.Extensions.Options;
using Recommender.Abstractions;

namespace Recommender.Grains.Experiments;

[GenerateSerializer, Alias("recommender.experiment-state")]
public sealed class ExperimentState
{
    [Id(0)] public ExperimentTally? Tally { get; set; }

    /// <summary>The ids of the latest flushes taken, newest last, so that one sent again is recognised.</summary>
    [Id(1)] public List<Guid> RecentFlushes { get; set; } = [];
}

/// <summary>
/// The counts of one version's latest run as a candidate, summed from every silo's flushes and persisted on each;
/// every flush is a look of the run's sequential tests.
/// </summary>
public sealed class ExperimentGrain([PersistentState("experiment")] IPersistentState<ExperimentState> state, IOptions<ServingOptions> options) : Grain, IExperimentGrain
{
    /// <summary>
    /// Flush ids remembered: a flush comes again within seconds of its first sending (each silo's next flush), so the
    /// last thousand cover every silo's retries many times over.
    /// </summary>
    public const int RememberedFlushes = 1024;

    // Set when a write failed: it may have been stored all the same, so storage is read before anything else.
    private bool _unread;

    public Task Add(ExperimentTally counts) => AddOnce(Guid.NewGuid(), counts);

    public async Task AddOnce(Guid flush, ExperimentTally counts)
    {
        await ReadIfUnread();
        if (state.State.RecentFlushes.Contains(flush)) return;
        var held = state.State.Tally;
        // A silo's late flush of a run that has since been stopped and started again belongs to no run shown now.
        if (held is not null && counts.Since < held.Since) return;
        var tally = held is null || counts.Since > held.Since ? counts with { Sequential = null } : held.Plus(counts);
        state.State.Tally = tally with { Sequential = SequentialTesting.LookAt(tally, options.Value.SequentialTestLift) };
        var recent = state.State.RecentFlushes;
        state.State.RecentFlushes = [.. recent.Skip(Math.Max(0, recent.Count + 1 - RememberedFlushes)), flush];
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Stored or not, the silo sends the same flush again; by then memory holds what storage does, and the flush's
            // id there if it was stored.
            (state.State.Tally, state.State.RecentFlushes) = (held, recent);
            _unread = true;
            throw;
        }
    }

    public async Task<ExperimentTally?> Get()
    {
        await ReadIfUnread();
        return state.State.Tally;
    }

    public async Task Clear()
    {
        await ReadIfUnread();
        state.State.Tally = null;
        state.State.RecentFlushes = [];
        await state.ClearStateAsync();
    }

    private async Task ReadIfUnread()
    {
        if (!_unread) return;
        await state.ReadStateAsync();
        _unread = false;
    }
}

using Microsoft.Extensions.Options;
using Recommender.Abstractions;

namespace Recommender.Grains.Experiments;

[GenerateSerializer, Alias("recommender.experiment-state")]
public sealed class ExperimentState
{
    [Id(0)] public ExperimentTally? Tally { get; set; }
}

/// <summary>
/// The counts of one version's latest run as a candidate, summed from every silo's flushes and persisted on each;
/// every flush is a look of the run's sequential tests.
/// </summary>
public sealed class ExperimentGrain([PersistentState("experiment")] IPersistentState<ExperimentState> state, IOptions<ServingOptions> options) : Grain, IExperimentGrain
{
    public async Task Add(ExperimentTally counts)
    {
        var held = state.State.Tally;
        // A silo's late flush of a run that has since been stopped and started again belongs to no run shown now.
        if (held is not null && counts.Since < held.Since) return;
        var tally = held is null || counts.Since > held.Since ? counts with { Sequential = null } : held.Plus(counts);
        state.State.Tally = tally with { Sequential = SequentialTesting.LookAt(tally, options.Value.SequentialTestLift) };
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Not stored: the silo sends the counts again, and memory must not hold them twice then.
            state.State.Tally = held;
            throw;
        }
    }

    public Task<ExperimentTally?> Get() => Task.FromResult(state.State.Tally);

    public async Task Clear()
    {
        state.State.Tally = null;
        await state.ClearStateAsync();
    }
}

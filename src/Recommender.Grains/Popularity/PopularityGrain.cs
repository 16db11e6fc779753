using Microsoft.Extensions.Options;
using Recommender.Abstractions;

namespace Recommender.Grains.Popularity;

[GenerateSerializer, Alias("recommender.popularity-state")]
public sealed class PopularityState
{
    /// <summary>Item id → (score, time of that score).</summary>
    [Id(0)] public Dictionary<string, (double Score, DateTimeOffset At)> Scores { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One partition of the decayed popularity counts; persisted on every flush so that a restart keeps the ranking.</summary>
public sealed class PopularityGrain(
    [PersistentState("popularity")] IPersistentState<PopularityState> state,
    IOptions<ServingOptions> options,
    TimeProvider clock) : Grain, IPopularityGrain
{
    private DecayedCounts? _counts;

    private DecayedCounts Counts
    {
        get
        {
            if (_counts is not null) return _counts;
            _counts = new DecayedCounts(options.Value.Popularity.HalfLife);
            foreach (var (id, (score, at)) in state.State.Scores) _counts.Restore(id, score, at);
            return _counts;
        }
    }

    public async Task Add(Immutable<PopularityDelta[]> deltas)
    {
        var now = clock.GetUtcNow();
        foreach (var d in deltas.Value) Counts.Add(d.ItemId, d.Weight, now);
        Counts.Prune(now);
        state.State.Scores = Counts.Entries.ToDictionary(e => e.ItemId, e => (e.Score, e.At), StringComparer.Ordinal);
        await state.WriteStateAsync();
    }

    public Task<Immutable<PopularityScore[]>> Top(int count) =>
        Task.FromResult(new Immutable<PopularityScore[]>(Counts.Top(count, clock.GetUtcNow()).Select(p => new PopularityScore(p.ItemId, p.Score)).ToArray()));
}

using Recommender.Abstractions;
using Recommender.Api.Validation;

namespace Recommender.Api.Scenarios;

/// <summary>
/// This front end's copy of the cluster's scenarios, read again once it is a second old, so that reads naming a
/// scenario do not all call the one grain that keeps them. A change shows as soon as <see cref="ScenarioWatch"/> hears
/// of it (at once, through this front end or another), and within a second should that notice be lost. A read that names no scenario gets the default one
/// (<see cref="FrontEndOptions.DefaultScenario"/>) when one is set and the cluster has it.
/// </summary>
public sealed class ScenarioCache(IGrainFactory grains, TimeProvider time, FrontEndOptions options, ILogger<ScenarioCache> logger)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    // One reference, so that readers on other threads see a set together with the time it was read.
    private Held? _current;

    // The revision of the scenarios at which the missing default scenario was last logged.
    private long _warnedRevision = -1;

    /// <summary>Every scenario, as the cluster had them at most <see cref="MaxAge"/> ago.</summary>
    public async ValueTask<ScenarioSet> GetAsync(TimeSpan attemptTimeout, CancellationToken cancellation)
    {
        if (Fresh(_current) is { } set) return set;
        await _refresh.WaitAsync(cancellation);
        try
        {
            if (Fresh(_current) is { } other) return other;
            var read = await ClusterRetry.RepeatAsync(() => grains.GetGrain<IScenariosGrain>(ScenarioNames.GrainKey).GetAll(), attemptTimeout, cancellation);
            Take(read);
            return read;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>
    /// <paramref name="request"/> under the scenario named by the scenario= parameter (<paramref name="name"/>; the request as
    /// it is when absent), <paramref name="given"/> saying which of the parameters a scenario sets the request gave itself
    /// (<see cref="ScenarioRules"/>). Null with the problem named under "scenario" when the name is
    /// malformed or names no scenario, and null as well when <paramref name="request"/> is (its own parameters were wrong).
    /// </summary>
    public async ValueTask<RecommendationRequest?> ApplyAsync(string? name, RecommendationRequest? request, ScenarioRules.Given given,
        ValidationErrors errors, TimeSpan attemptTimeout, CancellationToken cancellation)
    {
        if (name is null) return await DefaultAsync(request, given, errors, attemptTimeout, cancellation);
        if (ScenarioNames.Problem(name) is { } problem)
        {
            errors.Add("scenario", $"scenario {problem}.");
            return null;
        }
        if (request is null || errors.Any) return null;
        var set = await GetAsync(attemptTimeout, cancellation);
        if (set.Scenarios.GetValueOrDefault(name) is not { } scenario)
        {
            errors.Add("scenario", $"Scenario '{name}' is not defined; PUT /scenarios/{name} defines it (GET /scenarios lists those there are).");
            return null;
        }
        return ScenarioRules.Apply(request, name, scenario, given, errors, time.GetUtcNow());
    }

    /// <summary>
    /// <paramref name="request"/> under the default scenario; as it is when none is set, or when the cluster has none of
    /// that name (which the log says, once for each revision of the scenarios that lacks it).
    /// </summary>
    private async ValueTask<RecommendationRequest?> DefaultAsync(RecommendationRequest? request, ScenarioRules.Given given, ValidationErrors errors,
        TimeSpan attemptTimeout, CancellationToken cancellation)
    {
        if (options.DefaultScenario is not { } name || request is null || errors.Any) return request;
        var set = await GetAsync(attemptTimeout, cancellation);
        if (set.Scenarios.GetValueOrDefault(name) is { } scenario) return ScenarioRules.Apply(request, name, scenario, given, errors, time.GetUtcNow());
        if (Interlocked.Exchange(ref _warnedRevision, set.Revision) != set.Revision)
            logger.LogWarning("Recommender:DefaultScenario names scenario '{Scenario}', which the cluster does not have: lists read without scenario= get no rules " +
                "until PUT /scenarios/{Scenario} defines it", name, name);
        return request;
    }

    /// <summary>The revision of the set held (-1 for none yet).</summary>
    public long Revision => _current?.Set.Revision ?? -1;

    /// <summary>Takes a set the grain answered a change with, unless a later one is held already.</summary>
    public void Take(ScenarioSet set)
    {
        if (_current is { } held && held.Set.Revision > set.Revision) return;
        _current = new Held(set, time.GetTimestamp());
    }

    /// <summary>Forgets the set held, so that the next read asks the cluster (after a change whose answer carries no set).</summary>
    public void Forget() => _current = null;

    private ScenarioSet? Fresh(Held? held) => held is not null && time.GetElapsedTime(held.ReadAt) < MaxAge ? held.Set : null;

    private sealed record Held(ScenarioSet Set, long ReadAt);
}

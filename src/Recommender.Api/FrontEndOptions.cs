using Microsoft.Extensions.Options;
using Recommender.Hosting;

namespace Recommender.Api;

/// <summary>Settings of the HTTP front end alone, in the "Recommender" section beside the shared keys.</summary>
public sealed class FrontEndOptions
{
    /// <summary>
    /// How long one attempt at a call that may run twice (a user's recommendations or history, storing events, the
    /// item checks before them) may take before the front end gives it up and asks again. A request lost inside the
    /// cluster (a silo stopping while it forwards its queue, or killed) would otherwise hold the client for the whole
    /// Orleans response timeout and then fail.
    /// </summary>
    public TimeSpan CallAttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many item ids found in the catalogue the front end keeps, so that events naming them are checked without a call (0: none).</summary>
    public int KnownItemCacheSize { get; set; } = 100_000;

    /// <summary>
    /// How long a kept item id stands before the front end asks the catalogue again: an item deleted through another front
    /// end is refused here at most this long after.
    /// </summary>
    public TimeSpan KnownItemLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The scenario whose rules a list read without scenario= gets (none when unset): rules that hold everywhere, such as
    /// leaving out sold-out items, changed without a client release. A read naming a scenario gets that one instead.
    /// </summary>
    public string? DefaultScenario { get; set; }

    /// <summary>Whether the front end serves the operator console's pages at /console/ (they read the API with the key entered).</summary>
    public bool Console { get; set; } = true;

    /// <summary>Binds and checks the settings; a bad value stops the node at start-up.</summary>
    public static FrontEndOptions Bind(IConfiguration configuration)
    {
        var options = configuration.GetSection(RecommenderOptions.Section).Get<FrontEndOptions>() ?? new FrontEndOptions();
        const string key = "Recommender:CallAttemptTimeout";
        if (options.CallAttemptTimeout <= TimeSpan.Zero || options.CallAttemptTimeout > TimeSpan.FromMinutes(10))
            throw new OptionsValidationException(key, typeof(FrontEndOptions),
                [$"{key} must be a time span above zero and at most 00:10:00 (such as 00:00:10), not {options.CallAttemptTimeout}."]);
        const string cacheKey = "Recommender:KnownItemCacheSize";
        if (options.KnownItemCacheSize is < 0 or > 10_000_000)
            throw new OptionsValidationException(cacheKey, typeof(FrontEndOptions),
                [$"{cacheKey} must be 0 (no cache) to 10000000 item ids, not {options.KnownItemCacheSize}."]);
        const string lifetimeKey = "Recommender:KnownItemLifetime";
        if (options.KnownItemLifetime <= TimeSpan.Zero || options.KnownItemLifetime > TimeSpan.FromDays(1))
            throw new OptionsValidationException(lifetimeKey, typeof(FrontEndOptions),
                [$"{lifetimeKey} must be a time span above zero and at most a day (such as 00:05:00), not {options.KnownItemLifetime}."]);
        const string scenarioKey = "Recommender:DefaultScenario";
        if (options.DefaultScenario is { } scenario && Recommender.Abstractions.ScenarioNames.Problem(scenario) is { } problem)
            throw new OptionsValidationException(scenarioKey, typeof(FrontEndOptions), [$"{scenarioKey} is a scenario's name, which {problem}; '{scenario}' is not."]);
        return options;
    }
}

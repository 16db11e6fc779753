using Microsoft.Extensions.Options;
using Recommender.Hosting;

namespace Recommender.Api;

/// <summary>Settings of the HTTP front end alone, in the "Recommender" section beside the shared keys.</summary>
public sealed class FrontEndOptions
{
    /// <summary>
    /// How long one attempt at a call that may run twice (a user's recommendations or history, storing one user's
    /// events) may take before the front end withdraws it and asks again. A request lost inside the cluster (a silo
    /// stopping while it forwards its queue) would otherwise hold the client for the whole Orleans response timeout
    /// and then fail.
    /// </summary>
    public TimeSpan CallAttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Binds and checks the settings; a bad value stops the node at start-up.</summary>
    public static FrontEndOptions Bind(IConfiguration configuration)
    {
        var options = configuration.GetSection(RecommenderOptions.Section).Get<FrontEndOptions>() ?? new FrontEndOptions();
        const string key = "Recommender:CallAttemptTimeout";
        if (options.CallAttemptTimeout <= TimeSpan.Zero || options.CallAttemptTimeout > TimeSpan.FromMinutes(10))
            throw new OptionsValidationException(key, typeof(FrontEndOptions),
                [$"{key} must be a time span above zero and at most 00:10:00 (such as 00:00:10), not {options.CallAttemptTimeout}."]);
        return options;
    }
}

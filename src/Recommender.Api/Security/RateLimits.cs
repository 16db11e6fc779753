using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.OpenApi;
using Microsoft.Extensions.Options;
using Recommender.Hosting;

namespace Recommender.Api.Security;

/// <summary>
/// <c>Recommender:RateLimit</c>: how many API requests each caller may send, to this front end or (<see cref="Scope"/>
/// <c>Cluster</c>) to all of them together. A caller is an API key when keys are configured, otherwise a client
/// address. Off unless <see cref="RequestsPerSecond"/> is set.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "Recommender:RateLimit";
    public const int Max = 1_000_000;

    /// <summary>The sustained rate each caller gets (0: no limit).</summary>
    public int RequestsPerSecond { get; set; }

    /// <summary>How many requests a caller that has been quiet may send at once (default: one second's worth).</summary>
    public int? Burst { get; set; }

    public bool Enabled => RequestsPerSecond > 0;

    public int BucketSize => Burst ?? RequestsPerSecond;

    /// <summary>FrontEnd: each front end counts a caller's requests on its own; Cluster: all of them together.</summary>
    public string Scope { get; set; } = FrontEndScope;

    public const string FrontEndScope = "FrontEnd";
    public const string ClusterScope = "Cluster";

    public bool ClusterWide => string.Equals(Scope, ClusterScope, StringComparison.OrdinalIgnoreCase);

    /// <summary>Binds and checks the settings; a bad value stops the node at start-up.</summary>
    public static RateLimitOptions Bind(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var errors = new List<string>();
        SettingValues.RejectUnknown(section, [nameof(RequestsPerSecond), nameof(Burst), nameof(Scope)], errors);
        var options = section.Get<RateLimitOptions>() ?? new RateLimitOptions();
        if (options.RequestsPerSecond is < 0 or > Max)
            errors.Add($"{Section}:{nameof(RequestsPerSecond)} must be 0 (no limit) to {Max}, not {options.RequestsPerSecond}.");
        if (options.Burst is { } burst && (burst < 1 || burst > Max))
            errors.Add($"{Section}:{nameof(Burst)} must be 1 to {Max} requests, not {burst}.");
        else if (options.Burst is not null && options.RequestsPerSecond == 0)
            errors.Add($"{Section}:{nameof(Burst)} is set but {Section}:{nameof(RequestsPerSecond)} is not: set the rate too, or remove the burst.");
        if (!string.Equals(options.Scope, FrontEndScope, StringComparison.OrdinalIgnoreCase) && !string.Equals(options.Scope, ClusterScope, StringComparison.OrdinalIgnoreCase))
            errors.Add($"{Section}:{nameof(Scope)} must be {FrontEndScope} (each front end counts on its own) or {ClusterScope} (all front ends together), not '{options.Scope}'.");
        if (errors.Count > 0) throw new OptionsValidationException(Section, typeof(RateLimitOptions), errors);
        return options;
    }
}

/// <summary>
/// Each caller's requests to the API go through a token bucket of its own: <see cref="RateLimitOptions.BucketSize"/>
/// requests at once, refilled at <see cref="RateLimitOptions.RequestsPerSecond"/>. A request over the limit is
/// answered 429 with a problem and Retry-After before its endpoint runs, so it writes nothing. Health, OpenAPI and
/// metrics are not limited, for probes and scrapers.
/// </summary>
public static class RateLimits
{
    public const string Policy = "per-caller";

    /// <summary>The claim naming the key a request was authenticated with ("client key 2"): that key's bucket.</summary>
    public const string KeyClaim = "recommender:api-key";

    public static void AddRateLimits(this WebApplicationBuilder builder)
    {
        var options = RateLimitOptions.Bind(builder.Configuration);
        builder.Services.AddSingleton(options);
        if (!options.Enabled) return;
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            if (options.ClusterWide)
                limiter.AddPolicy(Policy, context => RateLimitPartition.Get(Caller(context), caller =>
                    new ClusterRateLimiter(caller, context.RequestServices.GetRequiredService<IGrainFactory>(), options, TimeProvider.System)));
            else limiter.AddPolicy(Policy, context => RateLimitPartition.GetTokenBucketLimiter(Caller(context), _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = options.BucketSize,
                TokensPerPeriod = options.RequestsPerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                // The partitioned limiter refills every bucket on its own timer, in proportion to the time passed.
                AutoReplenishment = false,
                // Refused at once: a client told when to come back holds no connection meanwhile.
                QueueLimit = 0,
            }));
            limiter.OnRejected = (rejected, cancellation) => Reject(rejected, options, cancellation);
        });
    }

    /// <summary>After the key checks, so that a request is counted against its key.</summary>
    public static void UseRateLimits(this WebApplication app)
    {
        if (app.Services.GetRequiredService<RateLimitOptions>().Enabled) app.UseRateLimiter();
    }

    /// <summary>Puts the API's operations under the limit, and the document says so.</summary>
    public static RouteGroupBuilder WithRateLimits(this RouteGroupBuilder api, RateLimitOptions options) =>
        options.Enabled ? api.RequireRateLimiting(Policy).ProducesProblem(StatusCodes.Status429TooManyRequests) : api;

    /// <summary>The key the request was authenticated with, or else the address it came from.</summary>
    public static string Caller(HttpContext context) =>
        context.User.FindFirstValue(KeyClaim) is { } key ? key : $"address {context.Connection.RemoteIpAddress?.ToString() ?? "unknown"}";

    private static async ValueTask Reject(OnRejectedContext rejected, RateLimitOptions options, CancellationToken cancellation)
    {
        var http = rejected.HttpContext;
        // The bucket says when the next request would be let in; a whole second at least, as Retry-After counts.
        var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var burst = options.BucketSize == options.RequestsPerSecond ? "" : $" (after a quiet spell, {options.BucketSize} at once)";
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests.",
                Detail = $"This caller ({Caller(http)}) may send {options.RequestsPerSecond} request(s) a second{burst}{(options.ClusterWide ? " to all front ends together" : "")} ({RateLimitOptions.Section}); "
                    + $"nothing was done. Try again in {seconds} s.",
            },
        });
    }
}

/// <summary>The document's 429 answers say what they mean and carry Retry-After, as the 503s do.</summary>
public sealed class OpenApiRateLimits : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (operation.Responses?.TryGetValue("429", out var limited) != true || limited is not OpenApiResponse response) return Task.CompletedTask;
        response.Description = $"This caller (its API key, or without keys its address) has used up its requests ({RateLimitOptions.Section}); "
            + "nothing was done (problem details). Retry-After says when to try again.";
        response.Headers ??= new Dictionary<string, IOpenApiHeader>();
        response.Headers["Retry-After"] = OpenApiUnavailable.RetryAfterHeader(minimum: 1);
        return Task.CompletedTask;
    }
}

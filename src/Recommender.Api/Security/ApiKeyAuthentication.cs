using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Recommender.Api.Security;

/// <summary>
/// Authenticates a request by its API key, sent as <c>Authorization: Bearer KEY</c> or <c>X-Api-Key: KEY</c>, and
/// answers a missing or wrong key with a 401 problem and a key of too little rights with a 403 problem. Without
/// configured keys every request is let in with the admin role.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiKeys keys, IProblemDetailsService problems) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    public const string ClientPolicy = "client";
    public const string AdminPolicy = "admin";

    private const string Usage = $"send it as 'Authorization: Bearer <key>' or '{HeaderName}: <key>'";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!keys.Enabled) return Task.FromResult(Success(ApiRole.Admin));
        var headers = Request.Headers;
        string? bearer = null;
        if (headers.Authorization.Count > 0)
        {
            var value = headers.Authorization.ToString();
            if (headers.Authorization.Count > 1 || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
                return Fail($"The Authorization header must be one 'Bearer <key>'; {Usage}.");
            bearer = value["Bearer ".Length..].Trim();
        }
        string? header = null;
        if (headers.TryGetValue(HeaderName, out var apiKey))
        {
            if (apiKey.Count > 1) return Fail($"The {HeaderName} header is given {apiKey.Count} times; send one key.");
            header = apiKey.ToString().Trim();
        }
        if (bearer is not null && header is not null && !string.Equals(bearer, header, StringComparison.Ordinal))
            return Fail($"The Authorization and {HeaderName} headers carry different keys; send one key.");
        var presented = bearer ?? header;
        if (presented is null) return Task.FromResult(AuthenticateResult.NoResult());
        return keys.Find(presented) is { } key ? Task.FromResult(Success(key.Role, key)) : Fail("The API key is not valid.");
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        // RFC 6750: a wrong key is an invalid token; a missing one carries no error code.
        Response.Headers.WWWAuthenticate = failure is null ? "Bearer realm=\"recommender\"" : "Bearer realm=\"recommender\", error=\"invalid_token\"";
        await Write(failure is null ? "An API key is required." : "The API key was refused.", failure?.Message ?? $"This endpoint needs an API key: {Usage}.");
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await Write("The API key may not do this.",
            $"{Request.Method} {Request.Path} needs an admin key ({ApiKeys.Section}:Admin): managing models, exporting the events and erasing users are admin operations, and the key sent is a client key.");
    }

    private Task<AuthenticateResult> Fail(string message) => Task.FromResult(AuthenticateResult.Fail(message));

    private AuthenticateResult Success(ApiRole role, ApiKey? key = null)
    {
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, role.ToString())], SchemeName);
        if (key is not null) identity.AddClaim(new Claim(RateLimits.KeyClaim, key.ToString()));
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    private async Task Write(string title, string detail) =>
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = Response.StatusCode, Title = title, Detail = detail },
        });
}

public static class ApiKeyAuthenticationExtensions
{
    /// <summary>Registers the keys of <c>Recommender:ApiKeys</c> (checked now: a bad one stops the node) and the two access policies.</summary>
    public static void AddApiKeyAuthentication(this WebApplicationBuilder builder)
    {
        var keys = ApiKeys.FromConfiguration(builder.Configuration);
        builder.Services.AddSingleton(keys);
        // Without keys the pipeline leaves the checks out (see RecommenderApi.Build): the endpoints' authorization
        // metadata is then deliberately unenforced.
        builder.Services.Configure<RouteOptions>(routes => routes.SuppressCheckForUnhandledSecurityMetadata = !keys.Enabled);
        // The core services only: AddAuthentication would bring in data protection, which keys nothing here and
        // writes a key ring under the user's home directory.
        builder.Services.AddWebEncoders();
        builder.Services.AddOptions<AuthenticationSchemeOptions>(ApiKeyAuthenticationHandler.SchemeName);
        builder.Services.AddAuthenticationCore(options =>
        {
            options.AddScheme<ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
            options.DefaultScheme = ApiKeyAuthenticationHandler.SchemeName;
        });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeyAuthenticationHandler.ClientPolicy, policy => policy.RequireRole(nameof(ApiRole.Client), nameof(ApiRole.Admin)))
            .AddPolicy(ApiKeyAuthenticationHandler.AdminPolicy, policy => policy.RequireRole(nameof(ApiRole.Admin)));
    }

    /// <summary>
    /// With keys configured, a request without a valid key is answered 401 whatever it asks for, unless its endpoint
    /// allows anonymous callers (health, OpenAPI, metrics): an unknown path, a method or a content type the endpoint
    /// does not take would otherwise answer 404, 405 or 415 and describe the API to a caller without a key.
    /// </summary>
    public static void UseApiKeyChallenge(this WebApplication app) => app.Use(async (context, next) =>
    {
        if (context.RequestServices.GetRequiredService<ApiKeys>().Enabled && context.User.Identity?.IsAuthenticated != true
            && context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is null)
        {
            await context.ChallengeAsync(ApiKeyAuthenticationHandler.SchemeName);
            return;
        }
        await next(context);
    });

    /// <summary>Says at start whether the API is open, so that an exposed node without keys does not go unnoticed.</summary>
    public static void LogApiKeys(this WebApplication app)
    {
        var keys = app.Services.GetRequiredService<ApiKeys>();
        if (keys.Enabled)
            app.Logger.LogInformation("API keys: {Admin} admin and {Client} client key(s); health, OpenAPI and metrics stay open.", keys.AdminCount, keys.ClientCount);
        else
            app.Logger.LogWarning("No API keys are configured ({Section}): every endpoint, model uploads and the event export included, is open to anyone who can reach this node.", ApiKeys.Section);
    }
}

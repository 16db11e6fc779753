using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Configuration;
using Recommender.Abstractions;
using Recommender.Api.Console;
using Recommender.Api.Endpoints;
using Recommender.Api.Health;
using Recommender.Api.Security;
using Recommender.Api.Validation;
using Recommender.Hosting;

namespace Recommender.Api;

/// <summary>
/// Builds the HTTP front end. <c>Recommender:Mode</c> chooses how it reaches the grains: Embedded co-hosts a silo,
/// Cluster connects as a client, External leaves it to <paramref name="configure"/> to register an IClusterClient
/// (as tests do with a TestCluster's client).
/// </summary>
public static class RecommenderApi
{
    public const string DefaultUrl = "http://localhost:5000";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = HostRunner.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"])
            && !builder.Configuration.GetSection("Kestrel:Endpoints").GetChildren().Any())
            builder.WebHost.UseUrls(DefaultUrl);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = Limits.MaxBodyBytes;
            kestrel.Limits.MaxRequestLineSize = Limits.MaxRequestLineBytes;
        });
        configure?.Invoke(builder);

        builder.Services.Configure<RecommenderOptions>(builder.Configuration.GetSection(RecommenderOptions.Section));
        var settings = RecommenderSiloExtensions.Bind(builder.Configuration);
        switch (settings.Mode)
        {
            case HostingMode.Embedded:
                builder.AddRecommenderSilo();
                break;
            case HostingMode.Cluster:
                builder.UseOrleansClient(client => ConfigureClient(client, builder.Configuration, settings));
                break;
            case HostingMode.External:
                break;
        }

        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            // Numbers are JSON numbers, as the hand-written body validation requires; the OpenAPI document says so.
            json.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });
        builder.Services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context =>
        {
            // Routing refuses a body type an endpoint does not accept before any handler runs: say what it does accept.
            if (context.ProblemDetails.Status == StatusCodes.Status415UnsupportedMediaType && context.ProblemDetails.Detail is null)
                context.ProblemDetails.Detail = $"The body's Content-Type ('{context.HttpContext.Request.ContentType ?? "none"}') is not accepted here: "
                    + "send JSON bodies as application/json, and a model package (POST /models) as multipart/form-data.";
        });
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        builder.AddApiKeyAuthentication();
        builder.AddRateLimits();
        builder.AddBrowserOrigins();
        builder.Services.AddOpenApi(openApi => openApi.AddOperationTransformer<OpenApiParameters>().AddOperationTransformer<OpenApiRequestBodies>()
            .AddSchemaTransformer<OpenApiRequestBodies>().AddDocumentTransformer<OpenApiSecurity>().AddOperationTransformer<OpenApiSecurity>().AddOperationTransformer<OpenApiUnavailable>()
            .AddOperationTransformer<OpenApiRateLimits>());
        builder.Services.AddSingleton(FrontEndOptions.Bind(builder.Configuration));
        builder.Services.AddScoped<PinAvailability>();
        builder.Services.AddSingleton<KnownItems>();
        builder.Services.AddSingleton<Scenarios.ScenarioCache>();
        builder.Services.AddHostedService<Scenarios.ScenarioWatch>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ApiMetrics>();
        builder.Services.AddHealthChecks().AddCheck<CatalogueReadyCheck>("catalogue", tags: ["ready"]);
        builder.AddNodeTelemetry("recommender-api", ApiMetrics.MeterName);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseBrowserOrigins();
        if (app.Services.GetRequiredService<FrontEndOptions>().Console) app.UseConsole();
        // Without keys every caller may do everything: the key checks are left out of the pipeline rather than run
        // on every request to let everyone in (the endpoints' authorization metadata then has nothing to enforce).
        if (app.Services.GetRequiredService<ApiKeys>().Enabled)
        {
            app.UseAuthentication();
            app.UseApiKeyChallenge();
            app.UseAuthorization();
        }
        app.UseRateLimits();
        app.MapRecommenderEndpoints();
        app.LogApiKeys();
        return app;
    }

    /// <summary>
    /// The HTTP API: events, users, items, health, OpenAPI and metrics. With API keys configured, the API itself needs
    /// a client key (model management, the export and erasure an admin key); with a rate limit, each caller's requests
    /// to it are limited; health, OpenAPI and metrics stay open for probes and scrapers.
    /// </summary>
    public static IEndpointRouteBuilder MapRecommenderEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("").RejectUnknownQueryParameters().RequireAuthorization(ApiKeyAuthenticationHandler.ClientPolicy)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithRateLimits(app.ServiceProvider.GetRequiredService<RateLimitOptions>());
        EventEndpoints.Map(api);
        UserEndpoints.Map(api);
        SessionEndpoints.Map(api);
        PopularEndpoints.Map(api);
        LatestEndpoints.Map(api);
        ItemEndpoints.Map(api);
        ScenarioEndpoints.Map(api);
        ScenarioHistoryEndpoints.Map(api);
        ModelEndpoints.Map(api);
        ExportEndpoints.Map(api);
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains("ready"),
            ResultStatusCodes = { [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable },
        }).AllowAnonymous();
        app.MapOpenApi().AllowAnonymous();
        app.MapNodeMetrics().AllowAnonymous();
        return app;
    }

    private static void ConfigureClient(IClientBuilder client, IConfiguration configuration, RecommenderOptions settings)
    {
        var endpoints = RecommenderSiloExtensions.BindEndpoints(configuration);
        client.ConfigureOrleansTuning(configuration);
        client.AddTracePropagation(configuration);
        if (settings.Clustering.Mode == ClusteringMode.Localhost)
        {
            client.UseLocalhostClustering(endpoints.GatewayPort, endpoints.ServiceId, endpoints.ClusterId);
            return;
        }
        client.Configure<ClusterOptions>(o => { o.ClusterId = endpoints.ClusterId; o.ServiceId = endpoints.ServiceId; });
        client.UseAdoNetClustering(o =>
        {
            o.Invariant = settings.Clustering.Invariant;
            o.ConnectionString = settings.Clustering.ConnectionString
                ?? throw new InvalidOperationException("Recommender:Clustering:ConnectionString is required in Cluster mode with AdoNet clustering.");
        });
    }
}

using Recommender.Abstractions;
using Recommender.Api.Scenarios;
using Recommender.Api.Security;
using Recommender.Api.Validation;

namespace Recommender.Api.Endpoints;

/// <summary>
/// Scenarios: named list rules (tag filters, boosts, caps, diversity) for one place lists are shown, kept in the
/// cluster and applied to any list read with scenario=NAME, so that they change without a client release.
/// </summary>
public static class ScenarioEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/scenarios", List)
            .WithName("ListScenarios")
            .WithSummary("Every scenario (named list rules), by name.")
            .Produces<ScenariosResponse>()
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
        app.MapGet("/scenarios/{name}", Get)
            .WithName("GetScenario")
            .WithSummary("One scenario's rules.")
            .Produces<ScenarioResponse>()
            .ProducesValidationProblem()
            .ProducesValidationProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
        app.MapPut("/scenarios/{name}", Put)
            .WithName("PutScenario")
            .WithSummary($"Defines or replaces the scenario: a JSON object with any of tag, excludeTag, boost, cap, capEach (arrays of strings, each as "
                + "the query parameter of that name takes it, such as \"sale:2\" for a boost), diversity (0 to 1), k (1 to 1,000) and includeSeen (true or false). "
                + "A list read with scenario=NAME gets these rules; the request's own tag=, diversity=, k= and includeSeen= replace the scenario's, its boosts and caps take precedence on the tags they name, and "
                + $"excluded tags, boosts and caps of both add up. Every front end applies a change within a second. At most {Limits.MaxScenarios} scenarios (409 past that).")
            .Accepts<ScenarioRequest>("application/json")
            .Produces<ScenarioResponse>()
            .ProducesValidationProblem()
            .ProducesValidationProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
        app.MapDelete("/scenarios/{name}", Delete)
            .WithName("DeleteScenario")
            .WithSummary("Removes the scenario; lists that name it are then refused (400). Idempotent: deleting a scenario that is not there answers deleted=false.")
            .Produces<DeletedScenarioResponse>()
            .ProducesValidationProblem()
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
    }

    private static string? Name(string name, ValidationErrors errors)
    {
        if (ScenarioNames.Problem(name) is not { } problem) return name;
        errors.Add("name", $"The scenario's name {problem}.");
        return null;
    }

    private static async Task<IResult> List(ScenarioCache scenarios, FrontEndOptions options, CancellationToken cancellation)
    {
        scenarios.Forget();
        var set = await scenarios.GetAsync(options.CallAttemptTimeout, cancellation);
        return Results.Ok(new ScenariosResponse([.. set.Scenarios.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => ScenarioBody.Describe(s.Key, s.Value))]));
    }

    private static async Task<IResult> Get(string name, ScenarioCache scenarios, FrontEndOptions options, CancellationToken cancellation)
    {
        var errors = new ValidationErrors();
        if (Name(name, errors) is null) return Problems.Invalid(errors);
        scenarios.Forget();
        var set = await scenarios.GetAsync(options.CallAttemptTimeout, cancellation);
        return set.Scenarios.GetValueOrDefault(name) is { } scenario
            ? Results.Ok(ScenarioBody.Describe(name, scenario))
            : Problems.NotFound("name", $"Scenario '{name}' is not defined.");
    }

    private static async Task<IResult> Put(string name, HttpRequest http, IGrainFactory grains, ScenarioCache scenarios, TimeProvider time, CancellationToken cancellation)
    {
        var (document, problem) = await JsonBody.ReadAsync(http, cancellation);
        if (problem is not null) return problem;
        using var _ = document;
        var errors = new ValidationErrors();
        Name(name, errors);
        var scenario = ScenarioBody.Parse(document!.RootElement, time.GetUtcNow(), errors);
        if (errors.Any) return Problems.Invalid(errors);
        // Not repeated on a lost answer: a repeat of the same PUT is the client's to send (it stores the same rules).
        var set = await ClusterRetry.RunAsync(() => grains.GetGrain<IScenariosGrain>(ScenarioNames.GrainKey).Put(name, scenario!));
        if (set is null)
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["name"] = [$"The cluster keeps {Limits.MaxScenarios} scenarios already; delete one first."] },
                title: "Too many scenarios.", statusCode: StatusCodes.Status409Conflict);
        scenarios.Take(set);
        return Results.Ok(ScenarioBody.Describe(name, set.Scenarios[name]));
    }

    private static async Task<IResult> Delete(string name, HttpRequest http, IGrainFactory grains, ScenarioCache scenarios)
    {
        var errors = new ValidationErrors();
        if (Name(name, errors) is null) return Problems.Invalid(errors);
        if (Problems.UnexpectedBody(http, "DELETE /scenarios/{name}") is { } body) return body;
        var deleted = await ClusterRetry.RunAsync(() => grains.GetGrain<IScenariosGrain>(ScenarioNames.GrainKey).Delete(name));
        scenarios.Forget();
        return Results.Ok(new DeletedScenarioResponse(name, deleted));
    }
}

using Microsoft.AspNetCore.Mvc;
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
            .WithSummary("Every scenario (named list rules), by name, with the scenarios' revision (also the ETag, which If-Match takes to make a change only "
                + "while they are as read; If-None-Match with it answers 304 while they are).")
            .Produces<ScenariosResponse>()
            .Produces(StatusCodes.Status304NotModified)
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
        app.MapGet("/scenarios/{name}", Get)
            .WithName("GetScenario")
            .WithSummary("One scenario's rules; the ETag is the revision that last stored it (also its revision field). If-None-Match with that tag, or with "
                + "a later revision of the scenarios, answers 304 while the scenario is as it was then.")
            .Produces<ScenarioResponse>()
            .Produces(StatusCodes.Status304NotModified)
            .ProducesValidationProblem()
            .ProducesValidationProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
        app.MapPut("/scenarios/{name}", Put)
            .WithName("PutScenario")
            .WithSummary($"Defines or replaces the scenario: a JSON object with any of tag, excludeTag, boost, cap, capEach (arrays of strings, each as "
                + "the query parameter of that name takes it, such as \"sale:2\" for a boost), exclude (item ids never listed under it, at most "
                + $"{Limits.MaxScenarioExclude}), pin (ITEM:POSITION, items set at places of its lists, at most {Limits.MaxPins}), slot (TAG:POSITION, places for the best item of a tag, at most {Limits.MaxSlots}), diversity (0 to 1), k (1 to 1,000), includeSeen (true or false), fresh (HALFLIFE:FACTOR, as fresh=) and maxAge (as maxAge=). "
                + "A list read with scenario=NAME gets these rules; the request's own tag=, diversity=, k=, includeSeen=, fresh= and maxAge= replace the scenario's, its boosts and caps take precedence on the tags they name, its pins on the items and places they name, and "
                + $"excluded tags, boosts and caps of both add up. Every front end applies a change as soon as it is stored (within a second should its notice be lost). At most {Limits.MaxScenarios} scenarios (409 past that). "
                + "With If-Match: \"REVISION\" the scenario is stored only while it is as it was at that revision (stored or deleted then or before, whatever other scenarios did since), "
                + "with If-Match: * only if it exists, with If-None-Match: * only if it does not (412 otherwise, nothing stored).")
            .Accepts<ScenarioRequest>("application/json")
            .Produces<ScenarioResponse>()
            .ProducesValidationProblem()
            .ProducesValidationProblem(StatusCodes.Status409Conflict)
            .ProducesValidationProblem(StatusCodes.Status412PreconditionFailed)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
        var put = app.MapPut("/scenarios", ChangeSeveral(replaceAll: true))
            .WithName("PutScenarios")
            .WithSummary("Makes the cluster's scenarios exactly those of the body, in one change: a JSON object of each scenario's name to the rules "
                + "PUT /scenarios/{name} takes; every scenario it does not name is deleted. Nothing is changed unless every name and rule is valid (400 names "
                + "each fault as NAME.FIELD). A scenario given with the rules it has already is kept as it is. dryRun=true answers what would change and changes nothing; "
                + "changes gives each stored or deleted scenario's rules before and after. With If-Match: \"REVISION\" (the revision a dry run answered) the change is made only while "
                + "the scenarios are still at it (412 otherwise, nothing changed).")
            .Accepts<Dictionary<string, ScenarioRequest>>("application/json");
        ChangesSeveral(put);
        var patch = app.MapPatch("/scenarios", ChangeSeveral(replaceAll: false))
            .WithName("PatchScenarios")
            .WithSummary("Changes several scenarios in one change: a JSON object of each scenario's name to its rules (stored whole, as PUT /scenarios/{name} "
                + "stores them) or to null (deleted); scenarios it does not name are kept. Nothing is changed unless every name and rule is valid. "
                + "dryRun=true answers what would change and changes nothing; changes gives each stored or deleted scenario's rules before and after. "
                + "With If-Match: \"REVISION\" the change is made only while the scenarios it names are still as they were at that revision, whatever other scenarios did since "
                + "(412 otherwise, nothing changed).")
            .Accepts<Dictionary<string, ScenarioRequest?>>("application/json");
        ChangesSeveral(patch);
        app.MapDelete("/scenarios/{name}", Delete)
            .WithName("DeleteScenario")
            .WithSummary("Removes the scenario; lists that name it are then refused (400). Idempotent: deleting a scenario that is not there answers deleted=false. "
                + "With If-Match: \"REVISION\" only while the scenario is as it was at that revision, with If-Match: * only if it exists (412 otherwise, nothing deleted).")
            .Produces<DeletedScenarioResponse>()
            .ProducesValidationProblem()
            .ProducesValidationProblem(StatusCodes.Status412PreconditionFailed)
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
    }

    /// <summary>The handler of PUT (<paramref name="replaceAll"/>) or PATCH /scenarios.</summary>
    private static Delegate ChangeSeveral(bool replaceAll) =>
        (string? dryRun, string? note, HttpRequest http, IGrainFactory grains, ScenarioCache scenarios, TimeProvider time,
            [FromHeader(Name = ScenarioPreconditions.IfMatch)] string? ifMatch, CancellationToken cancellation) =>
            Apply(replaceAll, dryRun, note, http, grains, scenarios, time, cancellation);

    /// <summary>What PUT and PATCH /scenarios share: their answers, the admin key, and no query parameter but dryRun and note.</summary>
    private static void ChangesSeveral(RouteHandlerBuilder route) => route
        .Produces<ScenariosAppliedResponse>()
        .ProducesValidationProblem()
        .ProducesValidationProblem(StatusCodes.Status409Conflict)
        .ProducesValidationProblem(StatusCodes.Status412PreconditionFailed)
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy)
        .RejectUnknownQueryParameters();

    private static string? Name(string name, ValidationErrors errors)
    {
        if (ScenarioNames.Problem(name) is not { } problem) return name;
        errors.Add("name", $"The scenario's name {problem}.");
        return null;
    }

    // The header parameters of these handlers are declared for the OpenAPI document; their values are read from the
    // request, where a header sent twice is still two values.
    private static async Task<IResult> List(HttpRequest http, ScenarioCache scenarios, FrontEndOptions options, TimeProvider time,
        [FromHeader(Name = ScenarioPreconditions.IfNoneMatch)] string? ifNoneMatch, CancellationToken cancellation)
    {
        scenarios.Forget();
        var set = await scenarios.GetAsync(options.CallAttemptTimeout, cancellation);
        var errors = new ValidationErrors();
        if (ScenarioPreconditions.NotModified(http, set.Revision, set.Revision, errors)) return ScenarioPreconditions.NotModifiedResult(set.Revision);
        if (errors.Any) return Problems.Invalid(errors);
        return ScenarioPreconditions.WithETag(Results.Ok(new ScenariosResponse(set.Revision,
            [.. set.Scenarios.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => ScenarioBody.Describe(s.Key, s.Value, time.GetUtcNow()))])), set.Revision);
    }

    private static async Task<IResult> Get(string name, HttpRequest http, ScenarioCache scenarios, FrontEndOptions options, TimeProvider time,
        [FromHeader(Name = ScenarioPreconditions.IfNoneMatch)] string? ifNoneMatch, CancellationToken cancellation)
    {
        var errors = new ValidationErrors();
        if (Name(name, errors) is null) return Problems.Invalid(errors);
        scenarios.Forget();
        var set = await scenarios.GetAsync(options.CallAttemptTimeout, cancellation);
        if (set.Scenarios.GetValueOrDefault(name) is not { } scenario) return Problems.NotFound("name", $"Scenario '{name}' is not defined.");
        var stored = ScenarioPreconditions.RevisionOf(scenario, set);
        if (ScenarioPreconditions.NotModified(http, stored, set.Revision, errors)) return ScenarioPreconditions.NotModifiedResult(stored);
        if (errors.Any) return Problems.Invalid(errors);
        return ScenarioPreconditions.WithETag(Results.Ok(ScenarioBody.Describe(name, scenario, time.GetUtcNow())), stored);
    }

    private static async Task<IResult> Put(string name, string? note, HttpRequest http, IGrainFactory grains, ScenarioCache scenarios, TimeProvider time,
        [FromHeader(Name = ScenarioPreconditions.IfMatch)] string? ifMatch, [FromHeader(Name = ScenarioPreconditions.IfNoneMatch)] string? ifNoneMatch,
        CancellationToken cancellation)
    {
        var (document, problem) = await JsonBody.ReadAsync(http, cancellation);
        if (problem is not null) return problem;
        using var _ = document;
        var errors = new ValidationErrors();
        Name(name, errors);
        var scenario = ScenarioBody.Parse(document!.RootElement, time.GetUtcNow(), errors);
        var precondition = ScenarioPreconditions.ForChange(http, single: true, createOnly: true, errors);
        var author = ScenarioAuthors.From(http.HttpContext, note, errors);
        if (errors.Any) return Problems.Invalid(errors);
        // Not repeated on a lost answer: a repeat of the same PUT is the client's to send (it stores the same rules).
        var written = await ClusterRetry.RunAsync(() => grains.GetGrain<IScenariosGrain>(ScenarioNames.GrainKey).Put(name, scenario!, precondition!, author!));
        switch (written.Refusal)
        {
            case ScenarioRefusal.TooMany:
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["name"] = [$"The cluster keeps {Limits.MaxScenarios} scenarios already; delete one first."] },
                    title: "Too many scenarios.", statusCode: StatusCodes.Status409Conflict);
            case ScenarioRefusal.PreconditionFailed:
                scenarios.Take(written.Set);
                return ScenarioPreconditions.Failed(precondition!, written.Set, name);
        }
        scenarios.Take(written.Set);
        return ScenarioPreconditions.WithETag(Results.Ok(ScenarioBody.Describe(name, written.Set.Scenarios[name], time.GetUtcNow())), written.Set.Revision);
    }

    /// <summary>PUT (<paramref name="replaceAll"/>) or PATCH /scenarios: every scenario of the body checked, then stored in one change.</summary>
    private static async Task<IResult> Apply(bool replaceAll, string? dryRun, string? note, HttpRequest http, IGrainFactory grains, ScenarioCache scenarios, TimeProvider time,
        CancellationToken cancellation)
    {
        var (document, problem) = await JsonBody.ReadAsync(http, cancellation);
        if (problem is not null) return problem;
        using var _ = document;
        var now = time.GetUtcNow();
        var errors = new ValidationErrors();
        var dry = Fields.Flag(dryRun, "dryRun", errors);
        var root = document!.RootElement;
        var changes = new Dictionary<string, Scenario?>(StringComparer.Ordinal);
        var deletes = replaceAll ? "" : ", or to null to delete it";
        if (root.ValueKind != System.Text.Json.JsonValueKind.Object)
            errors.Add("body", $$$"""The body must be an object of each scenario's name to its rules{{{deletes}}}, such as {"home": {"boost": ["sale:2"]}}.""");
        else
        {
            foreach (var property in root.EnumerateObject())
            {
                var name = property.Name;
                if (ScenarioNames.Problem(name) is { } wrong)
                    errors.Add("name", $"The scenario name '{name}' {wrong}.");
                else if (property.Value.ValueKind == System.Text.Json.JsonValueKind.Null && !replaceAll)
                    changes[name] = null;
                else if (property.Value.ValueKind != System.Text.Json.JsonValueKind.Object)
                    errors.Add(name, $$$"""Scenario '{{{name}}}' must be an object of list rules, such as {"cap": ["sponsored:2"]}{{{deletes}}}.""");
                else
                {
                    var own = new ValidationErrors();
                    changes[name] = ScenarioBody.Parse(property.Value, now, own);
                    foreach (var (field, messages) in own.ToDictionary())
                        foreach (var message in messages) errors.Add($"{name}.{field}", message);
                }
            }
        }
        var precondition = ScenarioPreconditions.ForChange(http, single: false, createOnly: false, errors);
        var author = ScenarioAuthors.From(http.HttpContext, note, errors);
        if (errors.Any) return Problems.Invalid(errors);
        // Not repeated on a lost answer, as a single PUT is not: sending the same body again is the client's to do (it changes nothing more).
        var applied = await ClusterRetry.RunAsync(() => grains.GetGrain<IScenariosGrain>(ScenarioNames.GrainKey).Apply(changes, replaceAll, dry, precondition!, author!));
        switch (applied.Refusal)
        {
            case ScenarioRefusal.TooMany:
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"The cluster would then keep more than {Limits.MaxScenarios} scenarios; nothing was changed."] },
                    title: "Too many scenarios.", statusCode: StatusCodes.Status409Conflict);
            case ScenarioRefusal.PreconditionFailed:
                return ScenarioPreconditions.Failed(precondition!, applied.Set, name: null, replaceAll ? null : changes.Keys);
        }
        scenarios.Take(applied.Set);
        return Answer(applied, dry, now);
    }

    /// <summary>What a change of several scenarios did (or for a dry run would do), with each changed scenario's rules before and after.</summary>
    internal static IResult Answer(ScenariosApplied applied, bool dry, DateTimeOffset now)
    {
        // Before: the set the change met (for a dry run, the set now); after: the rules as they are (to be) stored.
        ScenarioResponse? Describe(IReadOnlyDictionary<string, Scenario>? set, string name) =>
            set?.GetValueOrDefault(name) is { } scenario ? ScenarioBody.Describe(name, scenario, now) : null;
        ScenarioChange[] described =
        [
            .. applied.Put.Select(name => new ScenarioChange(name, Describe(applied.Before.Scenarios, name), Describe(applied.Result, name))),
            .. applied.Deleted.Select(name => new ScenarioChange(name, Describe(applied.Before.Scenarios, name), null)),
        ];
        return ScenarioPreconditions.WithETag(Results.Ok(new ScenariosAppliedResponse(dry, applied.Set.Revision, applied.Put, applied.Unchanged, applied.Deleted, described)),
            applied.Set.Revision);
    }

    private static async Task<IResult> Delete(string name, string? note, HttpRequest http, IGrainFactory grains, ScenarioCache scenarios,
        [FromHeader(Name = ScenarioPreconditions.IfMatch)] string? ifMatch)
    {
        var errors = new ValidationErrors();
        Name(name, errors);
        var precondition = ScenarioPreconditions.ForChange(http, single: true, createOnly: false, errors);
        var author = ScenarioAuthors.From(http.HttpContext, note, errors);
        if (errors.Any) return Problems.Invalid(errors);
        if (Problems.UnexpectedBody(http, "DELETE /scenarios/{name}") is { } body) return body;
        var written = await ClusterRetry.RunAsync(() => grains.GetGrain<IScenariosGrain>(ScenarioNames.GrainKey).Delete(name, precondition!, author!));
        scenarios.Take(written.Set);
        if (written.Refusal is ScenarioRefusal.PreconditionFailed) return ScenarioPreconditions.Failed(precondition!, written.Set, name);
        return ScenarioPreconditions.WithETag(Results.Ok(new DeletedScenarioResponse(name, written.Changed)), written.Set.Revision);
    }
}

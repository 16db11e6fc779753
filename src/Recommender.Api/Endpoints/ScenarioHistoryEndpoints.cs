using Microsoft.AspNetCore.Mvc;
using Recommender.Abstractions;
using Recommender.Api.Scenarios;
using Recommender.Api.Security;
using Recommender.Api.Validation;

namespace Recommender.Api.Endpoints;

/// <summary>
/// The scenarios' history: what each recent change did and when, and going back to the scenarios as they were at one
/// of those revisions, so that a merchandiser's mistake is undone in one request rather than rebuilt by hand.
/// </summary>
public static class ScenarioHistoryEndpoints
{
    public const int DefaultLimit = 20;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/scenario-history", History)
            .WithName("ScenarioHistory")
            .WithSummary($"The scenarios' recent changes, newest first: each one's revision, time, and every scenario it stored or deleted with its rules before and after "
                + $"(null: none). The last {Limits.ScenarioHistoryChanges} changes are kept, fewer when together they changed more than {Limits.ScenarioHistoryRecords} "
                + "scenarios; oldest is the earliest revision they reach back to. name=NAME: only the changes of that scenario, each with that scenario alone. Each change says who made it (by: the API key, such as \"admin key 1\", or on an API "
                + "without keys the address it came from) and why (note, when the change was sent with note=). limit: how many changes to give (default 20).")
            .Produces<ScenarioHistoryResponse>()
            .ProducesValidationProblem()
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
        app.MapGet("/scenario-history/{revision}", At)
            .WithName("ScenariosAtRevision")
            .WithSummary("The scenarios as they were at that revision (from oldest in GET /scenario-history to now), in the form GET /scenarios gives them; "
                + "active says whether each one's time holds now.")
            .Produces<ScenariosResponse>()
            .ProducesValidationProblem()
            .ProducesValidationProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
        app.MapPost("/scenario-history/{revision}/restore", Restore)
            .WithName("RestoreScenarios")
            .WithSummary("Makes the scenarios what they were at that revision (from oldest in GET /scenario-history to now), in one change that the history keeps "
                + "like any other (so a restore is undone by restoring the revision before it); each scenario it stores again counts as changed now. dryRun=true "
                + "answers what would change and changes nothing; with If-Match: \"REVISION\" the restore is made only while the scenarios are still at that revision "
                + "(412 otherwise). Answers as PATCH /scenarios does.")
            .Produces<ScenariosAppliedResponse>()
            .ProducesValidationProblem()
            .ProducesValidationProblem(StatusCodes.Status404NotFound)
            .ProducesValidationProblem(StatusCodes.Status412PreconditionFailed)
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
    }

    private static async Task<IResult> History(string? limit, string? name, IGrainFactory grains, FrontEndOptions options, TimeProvider time, CancellationToken cancellation)
    {
        var errors = new ValidationErrors();
        var count = DefaultLimit;
        if (limit is not null
            && !(int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out count) && count is >= 1 and <= Limits.ScenarioHistoryChanges))
            errors.Add("limit", $"limit must be an integer from 1 to {Limits.ScenarioHistoryChanges} (the changes the history keeps); it was '{limit}'.");
        if (name is not null && ScenarioNames.Problem(name) is { } wrong) errors.Add("name", $"The scenario's name {wrong}.");
        if (errors.Any) return Problems.Invalid(errors);
        var history = await ClusterRetry.RepeatAsync(() => grains.GetGrain<IScenariosGrain>(ScenarioNames.GrainKey).History(count, name), options.CallAttemptTimeout, cancellation);
        var now = time.GetUtcNow();
        ScenarioResponse? Describe(string name, Scenario? scenario) => scenario is null ? null : ScenarioBody.Describe(name, scenario, now);
        return ScenarioPreconditions.WithETag(Results.Ok(new ScenarioHistoryResponse(history.Revision, history.Oldest,
            [.. history.Changes.Select(c => new ScenarioRevisionResponse(c.Revision, c.At, c.Author?.By, c.Author?.Note,
                [.. c.Edits.Select(e => new ScenarioChange(e.Name, Describe(e.Name, e.Before), Describe(e.Name, e.After)))]))])), history.Revision);
    }

    private static async Task<IResult> At(string revision, IGrainFactory grains, FrontEndOptions options, TimeProvider time, CancellationToken cancellation)
    {
        var errors = new ValidationErrors();
        if (Revision(revision, errors) is not { } target) return Problems.Invalid(errors);
        var grain = grains.GetGrain<IScenariosGrain>(ScenarioNames.GrainKey);
        var then = await ClusterRetry.RepeatAsync(() => grain.At(target), options.CallAttemptTimeout, cancellation);
        if (then is null) return await NotInHistory(grain, target, options, cancellation);
        var now = time.GetUtcNow();
        return Results.Ok(new ScenariosResponse(then.Revision,
            [.. then.Scenarios.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => ScenarioBody.Describe(s.Key, s.Value, now))]));
    }

    private static long? Revision(string text, ValidationErrors errors)
    {
        if (long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var revision)) return revision;
        errors.Add("revision", $"The revision must be a whole number of 0 or more (a revision GET /scenario-history lists); it was '{text}'.");
        return null;
    }

    private static async Task<IResult> NotInHistory(IScenariosGrain grain, long revision, FrontEndOptions options, CancellationToken cancellation)
    {
        var history = await ClusterRetry.RepeatAsync(() => grain.History(0, null), options.CallAttemptTimeout, cancellation);
        return Problems.NotFound("revision", $"Revision {revision} is not in the scenarios' history: it reaches from revision {history.Oldest} " +
            $"to revision {history.Revision}, the scenarios now (GET /scenario-history).");
    }

    // The header parameter is declared for the OpenAPI document; its value is read from the request.
    private static async Task<IResult> Restore(string revision, string? dryRun, string? note, HttpRequest http, IGrainFactory grains, ScenarioCache scenarios, FrontEndOptions options,
        TimeProvider time, [FromHeader(Name = ScenarioPreconditions.IfMatch)] string? ifMatch, CancellationToken cancellation)
    {
        var errors = new ValidationErrors();
        var target = Revision(revision, errors) ?? 0;
        var dry = Fields.Flag(dryRun, "dryRun", errors);
        var precondition = ScenarioPreconditions.ForChange(http, single: false, createOnly: false, errors);
        var author = ScenarioAuthors.From(http.HttpContext, note, errors);
        if (errors.Any) return Problems.Invalid(errors);
        if (Problems.UnexpectedBody(http, "POST /scenario-history/{revision}/restore") is { } body) return body;
        var grain = grains.GetGrain<IScenariosGrain>(ScenarioNames.GrainKey);
        // Not repeated on a lost answer, as a change of several scenarios is not: restoring the same revision again changes nothing more.
        var applied = await ClusterRetry.RunAsync(() => grain.Restore(target, dry, precondition!, author!));
        switch (applied.Refusal)
        {
            case ScenarioRefusal.PreconditionFailed:
                return ScenarioPreconditions.Failed(precondition!, applied.Set, name: null);
            case ScenarioRefusal.NotInHistory:
                return await NotInHistory(grain, target, options, cancellation);
        }
        scenarios.Take(applied.Set);
        return ScenarioEndpoints.Answer(applied, dry, time.GetUtcNow());
    }
}

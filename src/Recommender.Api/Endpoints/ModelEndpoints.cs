using Microsoft.AspNetCore.Http.Features;
using Recommender.Abstractions;
using Recommender.Api.Security;
using Recommender.Api.Validation;
using Recommender.Grains.Experiments;
using Recommender.Grains.Registry;
using Recommender.Model.Packaging;

namespace Recommender.Api.Endpoints;

/// <summary>
/// The model registry: upload a package (multipart/form-data with the three package files as the parts "manifest",
/// "encoder" and "embeddings", plus "text_projection" for a package with a text projection), list and inspect
/// versions, activate one, roll back to the previous one.
/// </summary>
public static class ModelEndpoints
{
    public static readonly string[] Parts = ["manifest", "encoder", "embeddings"];

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/models", Upload)
            .WithName("UploadModel")
            .WithSummary($"Registers a model package: multipart/form-data with the files {ModelPackage.ManifestFile} (part 'manifest'), {ModelPackage.EncoderFile} ('encoder') "
                + $"and {ModelPackage.EmbeddingsFile} ('embeddings'), optionally {ModelPackage.TextProjectionFile} ('{ModelUploadValidator.TextProjectionPart}'). "
                + "The package is validated fully (ONNX contracts included) before anything is stored.")
            .DisableAntiforgery()
            .Produces<ModelResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesValidationProblem(StatusCodes.Status409Conflict)
            .ProducesValidationProblem(StatusCodes.Status415UnsupportedMediaType)
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
        app.MapGet("/models", List).WithName("ListModels").Produces<ModelsResponse>();
        app.MapGet("/models/{version}", Get).WithName("GetModel").Produces<ModelResponse>().ProducesValidationProblem(StatusCodes.Status404NotFound);
        app.MapPost("/models/{version}/register", RegisterPlaced)
            .WithName("RegisterPlacedModel")
            .WithSummary($"Registers a package placed by hand in the incoming directory ({{DataDirectory}}/models/.incoming/{{version}}/, read by every silo), "
                + $"for packages above the {Limits.MaxModelUploadBytes / (1024 * 1024)} MiB upload limit. It gets the checks an upload gets, its manifest must name the version, "
                + "and it is then moved into the models directory.")
            .Produces<ModelResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesValidationProblem(StatusCodes.Status404NotFound)
            .ProducesValidationProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
        app.MapPost("/models/{version}/activate", Activate)
            .WithName("ActivateModel")
            .WithSummary("Loads every shard of the version, then makes it the active one for every silo; items added through the API are carried over.")
            .Produces<ActivationResponse>()
            .ProducesValidationProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
        app.MapPost("/models/{version}/candidate", StartCandidate)
            .WithName("StartCandidate")
            .WithSummary("Serves the version beside the active one to a share of the users (share: above 0, at most 1), for an A/B test: each user is drawn "
                + "to one side by a hash of the version and the user's id, and stays there; raising the share keeps those already on the candidate. Its shards "
                + "are built as an activation builds them and item writes reach them from then on; answers when they are ready. Called again for the same "
                + "version, only the share changes; for another, that one replaces it. A session with a visitorId is drawn as a user of that id; sessions without one, "
                + "similar items and users without history get what the active version gives. "
                + "An activation or rollback ends it. GET /models/{version}/candidate/results compares the two sides.")
            .Produces<CandidateResponse>()
            .ProducesValidationProblem()
            .ProducesValidationProblem(StatusCodes.Status404NotFound)
            .ProducesValidationProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
        app.MapGet("/models/{version}/candidate/results", CandidateResults)
            .WithName("GetCandidateResults")
            .WithSummary("The A/B test of the version's latest run as a candidate (running or ended): on each side, users' next events after the lists "
                + "the model ranked for them from the start of the run, the share that were in the list (hit rate) and the mean reciprocal rank, and the lists served "
                + "with the listed items users dismissed (dismissals per list) and bought (purchases per list) and the amount paid for them (revenue per list: the purchase events' values, "
                + "a purchase without one adding 0); and the candidate against the control (the version active beside it) on all five, with the difference's 95 % confidence interval and p-value, the variance taken over "
                + "buckets of users so that one user's many events count as one user's. The p-value is for one look at a length set beforehand (stopping at the first "
                + "look that shows a difference finds one far more often); sequentialPValue and its interval are always valid: read as often as wanted, and the test may "
                + "stop as soon as it is below the level (null until each side has users in 32 buckets). sampleRatio checks the split: the users served a list on each "
                + "side (each once a run) against the shares drawn, a p-value below 0.001 being a mismatch that no comparison survives. scenarios gives the same counts and comparisons "
            + "for the lists read under each scenario (scenario=NAME; the first 20 a run met), with one-look p-values and no users. Counts reach it within seconds. 404 when the version never ran as a candidate.")
            .Produces<CandidateResultsResponse>()
            .ProducesValidationProblem(StatusCodes.Status404NotFound);
        app.MapDelete("/models/{version}/candidate", StopCandidate)
            .WithName("StopCandidate")
            .WithSummary("Stops serving the candidate version to a share of the users: every user gets the active version again. 404 when the version is not the candidate.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesValidationProblem(StatusCodes.Status404NotFound)
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
        app.MapDelete("/models/{version}", Delete)
            .WithName("DeleteModel")
            .WithSummary("Deletes a version that does not serve: its registration, its package and what its shards kept. The active version, one being activated and one "
                + "retired less than the retire grace ago are refused (409). A deleted version's name is not registered again.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesValidationProblem(StatusCodes.Status404NotFound)
            .ProducesValidationProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
        app.MapPost("/models/rollback", Rollback)
            .WithName("RollbackModel")
            .WithSummary("Activates the previously active version (the fallback baseline when there is none).")
            .Produces<ActivationResponse>()
            .ProducesValidationProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
    }

    private static async Task<IResult> Upload(HttpRequest request, IGrainFactory grains, CancellationToken cancellation)
    {
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = Limits.MaxModelUploadBytes;
        if (request.ContentLength > Limits.MaxModelUploadBytes) return Problems.TooLarge(Limits.MaxModelUploadBytes);
        if (!request.HasFormContentType || request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) != true)
            return Problems.UnsupportedMediaType($"Send multipart/form-data with the parts {string.Join(", ", Parts.Select(p => $"'{p}'"))}.");
        var errors = new ValidationErrors();
        var files = new byte[Parts.Length][];
        byte[]? projection = null;
        try
        {
            request.HttpContext.Features.Set<IFormFeature>(new FormFeature(request, new FormOptions { MultipartBodyLengthLimit = Limits.MaxModelUploadBytes }));
            var form = await request.ReadFormAsync(cancellation);
            // A misspelt part (say 'text-projection') would otherwise register the package without it.
            string[] known = [.. Parts, ModelUploadValidator.TextProjectionPart];
            foreach (var name in form.Keys.Concat(form.Files.Select(f => f.Name)).Distinct(StringComparer.OrdinalIgnoreCase))
                if (!known.Contains(name, StringComparer.OrdinalIgnoreCase))
                    errors.Add(name, $"'{name}' is not a part of a model upload; the parts are {string.Join(", ", known)}.");
            foreach (var name in known)
                if (form.Files.GetFiles(name).Count > 1) errors.Add(name, $"The part '{name}' is given more than once.");
            for (var i = 0; i < Parts.Length; i++)
            {
                if (form.Files.GetFile(Parts[i]) is { } file) files[i] = await ReadPart(file, cancellation);
                else if (form.ContainsKey(Parts[i]))
                    errors.Add(Parts[i], $"The part '{Parts[i]}' is a form field, not a file: send the file itself (curl -F {Parts[i]}=@path, with the '@').");
                else errors.Add(Parts[i], $"The part '{Parts[i]}' is missing.");
            }
            if (form.Files.GetFile(ModelUploadValidator.TextProjectionPart) is { } projectionFile) projection = await ReadPart(projectionFile, cancellation);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Problems.TooLarge(Limits.MaxModelUploadBytes);
        }
        catch (InvalidDataException e)
        {
            return Problems.Invalid("body", $"The multipart body could not be read: {e.Message}");
        }
        catch (IOException)
        {
            // The client stopped sending, or the closing boundary never came.
            return Problems.Invalid("body", "The multipart body ended before its last part was complete.");
        }
        if (errors.Any) return Problems.Invalid(errors);

        return Registered(await grains.GetGrain<ICatalogueGrain>(0).RegisterModel(new Immutable<ModelUpload>(new ModelUpload(files[0], files[1], files[2], projection))));
    }

    /// <summary>A registration's answer: 201 with the version, or the problem its errors describe (409, 404 or 400).</summary>
    private static IResult Registered(ModelRegistration registration)
    {
        if (registration.Model is not null) return Results.Created($"/models/{registration.Model.Version}", ModelResponse.From(registration.Model));
        var errors = new ValidationErrors();
        foreach (var e in registration.Errors) errors.Add(e.Field, e.Message);
        return registration.Conflict ? Results.ValidationProblem(errors.ToDictionary(), title: "The version exists already.", statusCode: StatusCodes.Status409Conflict)
            : registration.NotFound ? Results.ValidationProblem(errors.ToDictionary(), title: "Not found.", statusCode: StatusCodes.Status404NotFound)
            : Problems.Invalid(errors);
    }

    private static async Task<byte[]> ReadPart(IFormFile file, CancellationToken cancellation)
    {
        using var buffer = new MemoryStream((int)file.Length);
        await file.CopyToAsync(buffer, cancellation);
        return buffer.ToArray();
    }

    private static async Task<IResult> List(IGrainFactory grains, FrontEndOptions options, CancellationToken cancellation)
    {
        var catalogue = grains.GetGrain<ICatalogueGrain>(0);
        var models = await ClusterRetry.RepeatAsync(catalogue.ListModels, options.CallAttemptTimeout, cancellation);
        var snapshot = await ClusterRetry.RepeatAsync(catalogue.GetSnapshot, options.CallAttemptTimeout, cancellation);
        var rollback = await ClusterRetry.RepeatAsync(catalogue.GetRollbackTarget, options.CallAttemptTimeout, cancellation);
        return Results.Ok(new ModelsResponse(snapshot.Model?.Version, models.Select(ModelResponse.From).ToArray(), rollback,
            snapshot.Candidate?.Model.Version, snapshot.Candidate?.Share, snapshot.Candidate?.Model.ActivatedAt));
    }

    private static async Task<IResult> Get(string version, IGrainFactory grains, FrontEndOptions options, CancellationToken cancellation)
    {
        var model = await ClusterRetry.RepeatAsync(() => grains.GetGrain<ICatalogueGrain>(0).GetModel(version), options.CallAttemptTimeout, cancellation);
        return model is null ? NotRegistered(version) : Results.Ok(ModelResponse.From(model));
    }

    private static async Task<IResult> RegisterPlaced(string version, HttpRequest request, IGrainFactory grains)
    {
        if (Problems.UnexpectedBody(request, "Registering a placed package") is { } unexpected) return unexpected;
        return Registered(await grains.GetGrain<IPlacedPackageGrain>(0).Register(version));
    }

    private static async Task<IResult> Activate(string version, HttpRequest request, IGrainFactory grains, FrontEndOptions options, CancellationToken cancellation)
    {
        if (Problems.UnexpectedBody(request, "Activation") is { } unexpected) return unexpected;
        var catalogue = grains.GetGrain<ICatalogueGrain>(0);
        if (!await IsRegistered(catalogue, version, options, cancellation)) return NotRegistered(version);
        return Results.Ok(ActivationResponse.From(await catalogue.ActivateModel(version, 0)));
    }

    private static async Task<IResult> StartCandidate(string version, string? share, HttpRequest request, IGrainFactory grains, FrontEndOptions options, CancellationToken cancellation)
    {
        if (Problems.UnexpectedBody(request, "Starting a candidate") is { } unexpected) return unexpected;
        var errors = new ValidationErrors();
        var part = Fields.Share(share, errors);
        if (errors.Any) return Problems.Invalid(errors);
        var catalogue = grains.GetGrain<ICatalogueGrain>(0);
        if (!await IsRegistered(catalogue, version, options, cancellation)) return NotRegistered(version);
        try
        {
            var result = await catalogue.StartCandidate(version, part, 0);
            return Results.Ok(new CandidateResponse(result.Model.Version, part, result.Previous!, result.Model.Shards, result.CarriedItems, result.NotRecommendable, result.NotInCatalogue));
        }
        catch (InvalidOperationException e)
        {
            return Conflict(e.Message, "The version cannot be a candidate now.");
        }
        catch (KeyNotFoundException)
        {
            // Deleted since the check above.
            return NotRegistered(version);
        }
    }

    private static async Task<IResult> CandidateResults(string version, IGrainFactory grains, FrontEndOptions options, CancellationToken cancellation)
    {
        var catalogue = grains.GetGrain<ICatalogueGrain>(0);
        if (await ClusterRetry.RepeatAsync(() => catalogue.GetModel(version), options.CallAttemptTimeout, cancellation) is null) return NotRegistered(version);
        var tally = await ClusterRetry.RepeatAsync(() => grains.GetGrain<IExperimentGrain>(version).Get(), options.CallAttemptTimeout, cancellation);
        var snapshot = await ClusterRetry.RepeatAsync(catalogue.GetSnapshot, options.CallAttemptTimeout, cancellation);
        var running = snapshot.Candidate is { } candidate && candidate.Model.Version == version ? candidate : null;
        // A run that has begun counts from nothing, whatever an earlier run of the version left.
        if (running is not null && snapshot.Model is { } active && (tally is null || tally.Since < running.Model.ActivatedAt))
            tally = new ExperimentTally(version, active.Version, running.Model.ActivatedAt, ArmTally.Empty(), ArmTally.Empty());
        return tally is null
            ? Problems.NotFound("version", $"Model version '{version}' has not run as a candidate, or no user's next event after its lists has been counted.")
            : Results.Ok(CandidateResultsResponse.From(tally, running?.Model.ActivatedAt == tally.Since ? running.Share : null));
    }

    private static async Task<IResult> StopCandidate(string version, HttpRequest request, IGrainFactory grains)
    {
        if (Problems.UnexpectedBody(request, "Stopping a candidate") is { } unexpected) return unexpected;
        return await grains.GetGrain<ICatalogueGrain>(0).StopCandidate(version) is null
            ? Problems.NotFound("version", $"Model version '{version}' is not the candidate.")
            : Results.NoContent();
    }

    private static async Task<IResult> Delete(string version, HttpRequest request, IGrainFactory grains)
    {
        if (Problems.UnexpectedBody(request, "Deleting a version") is { } unexpected) return unexpected;
        var deletion = await grains.GetGrain<ICatalogueGrain>(0).DeleteModel(version);
        if (deletion.Deleted is not null) return Results.NoContent();
        return deletion.NotFound
            ? NotRegistered(version)
            : Conflict(deletion.Refusal ?? "The version cannot be deleted now.", "The version cannot be deleted now.");
    }

    private static async Task<IResult> Rollback(HttpRequest request, IGrainFactory grains)
    {
        if (Problems.UnexpectedBody(request, "Rollback") is { } unexpected) return unexpected;
        try
        {
            return Results.Ok(ActivationResponse.From(await grains.GetGrain<ICatalogueGrain>(0).Rollback(0)));
        }
        catch (InvalidOperationException e)
        {
            // Nothing is wrong with the request; the registry's history has no earlier version.
            return Conflict(e.Message, "Nothing to roll back to.");
        }
    }

    private static IResult NotRegistered(string version) => Problems.NotFound("version", $"Model version '{version}' is not registered.");

    /// <summary>A 409 problem whose error, on "version", says why the registry cannot do this now.</summary>
    private static IResult Conflict(string why, string title) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { ["version"] = [why] }, title: title, statusCode: StatusCodes.Status409Conflict);

    /// <summary>Whether the version is registered, asked before a write (a failure to answer says nothing was written).</summary>
    private static async Task<bool> IsRegistered(ICatalogueGrain catalogue, string version, FrontEndOptions options, CancellationToken cancellation) =>
        await ClusterRetry.BeforeWritingAsync(() => ClusterRetry.RepeatAsync(() => catalogue.GetModel(version), options.CallAttemptTimeout, cancellation)) is not null;
}

/// <summary>A registered version; <see cref="TextProjection"/>: items it was not trained on get a vector from their text.</summary>
public sealed record ModelResponse(string Version, string Kind, int Dimension, int MaxLength, string Similarity, int ItemCount, string State,
    DateTimeOffset RegisteredAt, DateTimeOffset? ActivatedAt, bool Fallback, IReadOnlyDictionary<string, double>? Metrics,
    string ItemRepresentation = "id", bool TextProjection = false, DateTimeOffset? RetiredAt = null)
{
    public static ModelResponse From(ModelInfo m) =>
        new(m.Version, m.Kind, m.Dimension, m.MaxLength, m.Similarity, m.ItemCount, m.State.ToString().ToLowerInvariant(), m.RegisteredAt, m.ActivatedAt, m.Fallback, m.Metrics,
            m.ItemRepresentation, m.TextProjection, m.RetiredAt);
}

/// <summary>
/// The registered versions; <see cref="RollbackTarget"/>: where POST /models/rollback would go now (null: nowhere);
/// <see cref="Candidate"/>: the version served to <see cref="CandidateShare"/> of the users since <see cref="CandidateSince"/> (null: none).
/// </summary>
public sealed record ModelsResponse(string? Active, IReadOnlyList<ModelResponse> Models, string? RollbackTarget = null,
    string? Candidate = null, double? CandidateShare = null, DateTimeOffset? CandidateSince = null);

/// <summary>A candidate's start: the version, its share of the users, the active version beside it, and its shards as an activation reports them.</summary>
public sealed record CandidateResponse(string Candidate, double Share, string Active, int Shards, int CarriedItems, IReadOnlyList<string> NotRecommendable, int NotInCatalogue);

/// <summary>
/// A candidate run's A/B test: since when, whether it still runs (and for what share of the users), each side's counts,
/// and the candidate against the control on the hit rate, the mean reciprocal rank, the dismissals, purchases and
/// revenue per list (each null until each side has its events, or its lists, from users in at least two buckets).
/// </summary>
public sealed record CandidateResultsResponse(string Candidate, string Control, DateTimeOffset Since, bool Running, double? Share,
    ArmResponse CandidateArm, ArmResponse ControlArm, RateComparison? HitRate, RateComparison? MeanReciprocalRank, RateComparison? DismissalsPerList,
    RateComparison? PurchasesPerList, SampleRatio? SampleRatio, RateComparison? RevenuePerList, ScenarioResultsResponse[] Scenarios)
{
    public static CandidateResultsResponse From(ExperimentTally tally, double? share)
    {
        RateComparison? Compare(Func<ArmTally, RateEstimate?> rate, SequentialTest? sequential) =>
            ExperimentComparison.Compare(rate(tally.CandidateArm), rate(tally.ControlArm), sequential);
        var sequential = tally.Sequential;
        return new(tally.Candidate, tally.Control, tally.Since, share is not null, share, ArmResponse.From(tally.CandidateArm), ArmResponse.From(tally.ControlArm),
            Compare(ExperimentComparison.HitRate, sequential?.HitRate), Compare(ExperimentComparison.MeanReciprocalRank, sequential?.MeanReciprocalRank),
            Compare(ExperimentComparison.DismissalsPerList, sequential?.DismissalsPerList), Compare(ExperimentComparison.PurchasesPerList, sequential?.PurchasesPerList),
            ExperimentComparison.SplitOf(tally), Compare(ExperimentComparison.RevenuePerList, sequential?.RevenuePerList),
            [.. (tally.Scenarios ?? new Dictionary<string, ScenarioArms>()).OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => ScenarioResultsResponse.From(s.Key, s.Value))]);
    }
}

/// <summary>
/// The A/B test's counts and comparisons of the lists read under one scenario (the first 20 scenarios a run met): as
/// the run's, but with the p-values of one look only (no sequential test) and no users (a user is counted for the run).
/// </summary>
public sealed record ScenarioResultsResponse(string Scenario, ArmResponse CandidateArm, ArmResponse ControlArm, RateComparison? HitRate,
    RateComparison? MeanReciprocalRank, RateComparison? DismissalsPerList, RateComparison? PurchasesPerList, RateComparison? RevenuePerList)
{
    public static ScenarioResultsResponse From(string scenario, ScenarioArms arms)
    {
        RateComparison? Compare(Func<ArmTally, RateEstimate?> rate) => ExperimentComparison.Compare(rate(arms.CandidateArm), rate(arms.ControlArm), null);
        return new(scenario, ArmResponse.From(arms.CandidateArm, withUsers: false), ArmResponse.From(arms.ControlArm, withUsers: false),
            Compare(ExperimentComparison.HitRate), Compare(ExperimentComparison.MeanReciprocalRank), Compare(ExperimentComparison.DismissalsPerList),
            Compare(ExperimentComparison.PurchasesPerList), Compare(ExperimentComparison.RevenuePerList));
    }
}

/// <summary>
/// One side's users' next events after lists it ranked, how many were in the list, the lists it served (first
/// pages), the listed items users dismissed and bought and the amount paid for them (<see cref="Revenue"/>, the sum of
/// the purchase events' values), and the rates (null without events, or without lists).
/// </summary>
public sealed record ArmResponse(long NextEvents, long Hits, double? HitRate, double? MeanReciprocalRank, long Lists, long Dismissals, double? DismissalsPerList, long? Users,
    long Purchases, double? PurchasesPerList, double Revenue, double? RevenuePerList)
{
    public static ArmResponse From(ArmTally arm, bool withUsers = true) =>
        new(arm.TotalEvents, arm.Hits.Sum(), ExperimentComparison.HitRate(arm)?.Value, ExperimentComparison.MeanReciprocalRank(arm)?.Value,
            arm.ListsServed.Sum(), arm.ItemsDismissed.Sum(), ExperimentComparison.DismissalsPerList(arm)?.Value, withUsers ? arm.UsersServed.Sum() : null,
            arm.ItemsPurchased.Sum(), ExperimentComparison.PurchasesPerList(arm)?.Value, arm.AmountPaid.Sum(), ExperimentComparison.RevenuePerList(arm)?.Value);
}

/// <summary>
/// An activation's outcome. <see cref="NotInCatalogue"/>: items of the version that the catalogue does not hold, which are
/// not recommended until they are added.
/// </summary>
public sealed record ActivationResponse(string Active, string? Previous, int Shards, int CarriedItems, IReadOnlyList<string> NotRecommendable, int NotInCatalogue)
{
    public static ActivationResponse From(ActivationResult r) => new(r.Model.Version, r.Previous, r.Model.Shards, r.CarriedItems, r.NotRecommendable, r.NotInCatalogue);
}

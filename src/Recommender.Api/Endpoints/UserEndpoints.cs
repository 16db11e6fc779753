using System.Diagnostics;
using Recommender.Abstractions;
using Recommender.Api.Security;
using Recommender.Api.Validation;

namespace Recommender.Api.Endpoints;

public static class UserEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/users/{id}/recommendations", Recommend)
            .WithName("GetRecommendations")
            .WithSummary("The user's top-k items (softmax scores) under the active model, excluding items already in the history unless includeSeen=true, "
                + "minus exclude=id1,id2 and any excludeId=... (repeatable, one exact id each, for ids that contain a comma), "
                + "only items tagged tag=... when given (repeatable: any of them), none tagged excludeTag=... (repeatable); a live popularity list without history. "
                + "explain=true adds to each model-ranked item 'because': the (up to 2) recent history items whose vectors are closest to it; "
                + "diversity=0..1 trades relevance for items unlike each other; offset=n returns the k items after the first n (the next page).")
            .Produces<RecommendationsResponse>()
            .ProducesValidationProblem();
        app.MapGet("/users/{id}/history", History)
            .WithName("GetHistory")
            .WithSummary("The user's retained events in timestamp order, with the total count.")
            .Produces<HistoryResponse>()
            .ProducesValidationProblem();
        app.MapDelete("/users/{id}", Erase)
            .WithName("EraseUser")
            .WithSummary("Deletes the user's stored history and directory entry: nothing of it is exported or recommended from afterwards, "
                + "and the user gets the popularity list until new events arrive. Idempotent: a repeat erases 0 events.")
            .Produces<ErasedUserResponse>()
            .ProducesValidationProblem()
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
    }

    private static async Task<IResult> Recommend(string id, string? k, string? offset, string? includeSeen, string? exclude, string[]? excludeId, string[]? tag, string[]? excludeTag, string? explain,
        string? diversity,
        HttpRequest http, IGrainFactory grains, ApiMetrics metrics, FrontEndOptions options, CancellationToken cancellation)
    {
        var errors = new ValidationErrors();
        var userId = Fields.PathId(http, id, 1, "id", errors);
        var request = Fields.Recommendation(k, offset, includeSeen, exclude, excludeId, tag, excludeTag, explain, diversity, errors);
        if (errors.Any) return Problems.Invalid(errors);
        var clock = Stopwatch.StartNew();
        var user = grains.User(userId!);
        var ranking = await ClusterRetry.RepeatAsync(attempt => user.Recommend(request!, attempt), options.CallAttemptTimeout, cancellation);
        if (ranking.ModelVersion.Length == 0) return Problems.Unavailable("No model is active yet: the catalogue is still loading.");
        metrics.Recommended(ranking, clock.Elapsed);
        return Results.Ok(new RecommendationsResponse(userId!, ranking.ModelVersion, ranking.Source.ToString().ToLowerInvariant(), ranking.Cached,
            ranking.Items.Select(RecommendedItem.From).ToArray()));
    }

    private static async Task<IResult> Erase(string id, HttpRequest request, IGrainFactory grains, ApiMetrics metrics)
    {
        var errors = new ValidationErrors();
        var userId = Fields.PathId(request, id, 1, "id", errors);
        if (errors.Any) return Problems.Invalid(errors);
        var erased = await ClusterRetry.RunAsync(() => grains.User(userId!).Erase());
        metrics.Erased(erased);
        return Results.Ok(new ErasedUserResponse(userId!, erased));
    }

    private static async Task<IResult> History(string id, string? limit, HttpRequest request, IGrainFactory grains, FrontEndOptions options,
        CancellationToken cancellation)
    {
        var errors = new ValidationErrors();
        var userId = Fields.PathId(request, id, 1, "id", errors);
        int? max = null;
        if (limit is not null)
        {
            if (int.TryParse(limit, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var l) && l > 0) max = l;
            else errors.Add("limit", $"limit must be an integer from 1 to {int.MaxValue}.");
        }
        if (errors.Any) return Problems.Invalid(errors);
        var user = grains.User(userId!);
        var history = await ClusterRetry.RepeatAsync(attempt => user.GetHistory(max, attempt), options.CallAttemptTimeout, cancellation);
        return Results.Ok(new HistoryResponse(userId!, history.TotalCount, history.HistoryVersion,
            history.Events.Select(e => new HistoryEvent(e.ItemId, EventTypes.Name(e.Type), e.Timestamp, e.EventId, e.Value)).ToArray()));
    }
}

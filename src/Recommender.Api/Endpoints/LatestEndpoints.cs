using Microsoft.AspNetCore.Mvc;
using Recommender.Abstractions;
using Recommender.Api.Validation;

namespace Recommender.Api.Endpoints;

/// <summary>The newest items, by the time each became available: a news site's "latest", a shop's "just in".</summary>
public static class LatestEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/latest", Latest)
            .WithName("GetLatestItems")
            .WithSummary("The k newest items the active model serves, newest first, by the availableFrom each was written with (an item without one "
                + "is not listed; one whose time has not come, or that is hidden or expired, neither); ties by id. The same filters as the other "
                + "lists: exclude=id1,id2 and excludeId=..., tag=... (repeatable: any of them), excludeTag=..., maxAge=2d (only the last two days); "
                + "offset=n returns the k items after the first n. The same for every caller.")
            .Produces<LatestItemsResponse>()
            .ProducesValidationProblem();
    }

    private static async Task<IResult> Latest(string? k, string? offset, string? exclude, [FromQuery] string[]? excludeId, [FromQuery] string[]? tag,
        [FromQuery] string[]? excludeTag, string? maxAge, IGrainFactory grains, FrontEndOptions options, CancellationToken cancellation)
    {
        var errors = new ValidationErrors();
        var count = Fields.K(k, errors);
        var skip = Fields.Offset(offset, count, 0, errors);
        var excluded = Fields.Exclusions(exclude, excludeId, errors);
        var tags = Fields.TagFilters(tag, excludeTag, errors);
        var age = Fields.MaxAge(maxAge, errors);
        if (errors.Any) return Problems.Invalid(errors);
        var filter = new ScanFilter(count!.Value, excluded, tags.Tag, Offset: skip, Tags: tags.Tags, ExcludeTags: tags.ExcludeTags, MaxAge: age);
        var latest = await ClusterRetry.RepeatAsync(() => grains.GetGrain<ISearchGrain>(WorkerKeys.Any()).Latest(filter), options.CallAttemptTimeout, cancellation);
        return latest is null
            ? Problems.Unavailable("No model is active yet: the catalogue is still loading.")
            : Results.Ok(new LatestItemsResponse(latest.ModelVersion, [.. latest.Items.Select(i => new LatestItemResponse(i.ItemId, i.Title, i.AvailableFrom))]));
    }
}

/// <summary>GET /latest: the newest items of the model version that served them.</summary>
public sealed record LatestItemsResponse(string ModelVersion, IReadOnlyList<LatestItemResponse> Items);

/// <summary>A newest item, with the time it became available.</summary>
public sealed record LatestItemResponse(string Id, string Title, DateTimeOffset AvailableFrom);

using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Recommender.Abstractions;
using Recommender.Api.Scenarios;
using Recommender.Api.Validation;

namespace Recommender.Api.Endpoints;

public static class ItemEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPut("/items/{id}", Put)
            .WithName("PutItem")
            .WithSummary("Creates or replaces an item. Its text (title, text, tags) is encoded and kept; it becomes recommendable at once when the model was trained on it, "
                + "when it has an embedding of the active dimension (which wins over its text), or when the active model has a text projection; a trained item keeps its trained vector. "
                + "Title, text and tags are replaced; an update without an embedding keeps the one given before. "
                + "hidden=true keeps the item (and its place in histories) but never recommends it, until it is written again without it. "
                + "The answer's ETag is the item's version: with If-Match: \"VERSION\" the item is written only while it is still at that version, with If-Match: * only "
                + "if it exists, with If-None-Match: * only if it does not (412 otherwise, nothing written).")
            .Accepts<ItemRequest>("application/json")
            .Produces<ItemResponse>()
            .ProducesBodyProblems()
            .ProducesValidationProblem(StatusCodes.Status412PreconditionFailed);
        app.MapPatch("/items/{id}", Change)
            .WithName("PatchItem")
            .WithSummary("Changes some of an item's fields, a JSON merge patch (RFC 7396) of the item object: each field given replaces the item's and the others are kept, "
                + "a null removes text, tags, availableFrom or expiresAt (hidden: null is false); title and embedding cannot be removed. The item is read and written "
                + "in one step of its own, so another PUT or PATCH of it does not fall between (a POST /items batch may). 404 when the item is not in the catalogue. "
                + "With If-Match: \"VERSION\" (the ETag of GET /items/{id}) the change is made only while the item is still at that version (412 otherwise, nothing written).")
            .Accepts<ItemChangeRequest>("application/merge-patch+json", "application/json")
            .Produces<ItemResponse>()
            .ProducesBodyProblems()
            .ProducesValidationProblem(StatusCodes.Status404NotFound)
            .ProducesValidationProblem(StatusCodes.Status412PreconditionFailed);
        app.MapPatch("/items", ChangeMany)
            .WithName("PatchItems")
            .WithSummary("Changes some fields of a batch of items (hide the sold-out ones, move a sale's window): a JSON array of 1 to 500 objects, each an item's id "
                + "and a merge patch of its fields as PATCH /items/{id} takes one, each item once. The whole batch is checked before anything is written; then each "
                + "item is changed in a step of its own, and the answer gives each item's outcome in the order sent: changed (with the item), notInCatalogue, "
                + "refused (a window whose end would not be after its start), or changedSince (with \"ifVersion\": the item's version as an answer gave it, the "
                + "item is changed only while still at it; otherwise nothing is written and the outcome gives the version it is at). Sending the batch again after a failure is safe.")
            .Accepts<ItemBatchChangeRequest[]>("application/merge-patch+json", "application/json")
            .Produces<ItemChangesResponse>()
            .ProducesBodyProblems();
        app.MapPost("/items", PostMany)
            .WithName("PostItems")
            .WithSummary("Creates or replaces a batch of items (as PUT /items/{id} does for one, texts encoded in batches); the whole batch is validated before anything is written.")
            .Accepts<ItemRequest[]>("application/json")
            .Produces<ItemsResponse>()
            .ProducesBodyProblems();
        app.MapGet("/items", Find)
            .WithName("FindItems")
            .WithSummary("The first k items (20 by default) of the active version whose title holds title=TEXT, ignoring case, hidden ones too: a title equal to "
                + "it first, then those starting with it, then those holding it, the shorter title first (then by id); for looking up an item's id.")
            .Produces<FoundItemsResponse>()
            .ProducesValidationProblem();
        app.MapGet("/items/{id}", Get)
            .WithName("GetItem")
            .WithSummary("An item's details, its placement in the active version and, when it is not recommendable, why. The ETag is the item's version, which "
                + "every write of it moves on (send it in If-Match to make a change conditional); with If-None-Match naming it, 304 Not Modified without a body.")
            .Produces<ItemResponse>()
            .Produces(StatusCodes.Status304NotModified)
            .ProducesValidationProblem(StatusCodes.Status404NotFound);
        app.MapDelete("/items/{id}", Delete)
            .WithName("DeleteItem")
            .WithSummary("Deletes an item: its title, text, tags, vectors and window are erased, and it leaves every list (users', similar items, sessions, "
                + "popular, latest) under every version at once; histories keep its id, which the model reads as before. Writing the item again adds it as a new one. "
                + "Idempotent: deleting an item that is not there answers deleted=false. With If-Match: \"VERSION\" an item still there is deleted only while it is "
                + "at that version (412 otherwise, nothing deleted).")
            .Produces<DeletedItemResponse>()
            .ProducesValidationProblem()
            .ProducesValidationProblem(StatusCodes.Status412PreconditionFailed)
            .RequireAuthorization(Security.ApiKeyAuthenticationHandler.AdminPolicy);
        app.MapPost("/items/delete", DeleteMany)
            .WithName("DeleteItems")
            .WithSummary("Deletes a batch of items, a JSON array of 1 to 1,000 distinct ids, as DELETE /items/{id} does one; the whole batch is checked before "
                + "anything is deleted. Answers how many of them were in the catalogue, and for each id whether it was (false for an id not there, or deleted already).")
            .Accepts<string[]>("application/json")
            .Produces<DeletedItemsResponse>()
            .ProducesBodyProblems()
            .RequireAuthorization(Security.ApiKeyAuthenticationHandler.AdminPolicy);
        app.MapPost("/items/lookup", Lookup)
            .WithName("LookUpItems")
            .WithSummary("Reads a batch of items, a JSON array of 1 to 1,000 distinct ids, as GET /items/{id} reads one (to show a page of ids with their titles): "
                + "the items in the order sent, and the ids that are not in the catalogue. Writes nothing.")
            .Accepts<string[]>("application/json")
            .Produces<ItemLookupResponse>()
            .ProducesBodyProblems();
        app.MapGet("/items/{id}/similar", Similar)
            .WithName("GetSimilarItems")
            .WithSummary("The k items nearest to the item's vector (softmax scores), minus exclude=id1,id2 and any excludeId=..., only items tagged tag=... "
                + "when given (repeatable: any of them), none tagged excludeTag=...; diversity=0..1 trades likeness to the item for items unlike each other; offset=n returns the k items after the first n; "
                + "boost=TAG:FACTOR (repeatable) multiplies the weight of items carrying the tag by the factor; cap=TAG:COUNT (repeatable) lets at most COUNT of them into the list.")
            .Produces<SimilarItemsResponse>()
            .ProducesValidationProblem()
            .ProducesValidationProblem(StatusCodes.Status404NotFound);
    }

    // The header parameters of these handlers are declared for the OpenAPI document; their values are read from the
    // request, where a header sent twice is still two values.
    private static async Task<IResult> Put(string id, HttpRequest request, IGrainFactory grains, FrontEndOptions options,
        [FromHeader(Name = EntityTags.IfMatch)] string? ifMatch, [FromHeader(Name = EntityTags.IfNoneMatch)] string? ifNoneMatch, CancellationToken cancellation)
    {
        if (ReadPrecondition(request, createOnly: true, out var precondition) is { } invalid) return invalid;
        var (_, item, problem) = await ReadItemBody(id, request, grains, options, ItemBatch.ParseOne, cancellation);
        if (problem is not null) return problem;
        if (precondition != ItemPrecondition.None)
        {
            // Sent again after an attempt not answered in time, a write that was made is found made (the item shows it).
            var outcome = await ClusterRetry.RepeatAsync(attempt => grains.Item(item!.Id).UpsertIf(item, precondition, attempt), options.CallAttemptTimeout, cancellation);
            return outcome.PreconditionFailed ? ItemPreconditions.Failed(item!.Id, precondition, outcome.StoredAt) : await Written(outcome.View!, grains, options, cancellation);
        }
        // A replacement: sending it again, after a rejection or an attempt not answered in time, stores the same item.
        // An attempt given up is withdrawn, so one still queued behind a slow write does not write the item again.
        var view = await ClusterRetry.RepeatAsync(attempt => grains.Item(item!.Id).Upsert(item, attempt), options.CallAttemptTimeout, cancellation);
        return await Written(view, grains, options, cancellation);
    }

    /// <summary>The condition of a write's If-Match (and If-None-Match); the 400 naming the header when one is malformed.</summary>
    private static IResult? ReadPrecondition(HttpRequest request, bool createOnly, out ItemPrecondition precondition)
    {
        var errors = new ValidationErrors();
        precondition = ItemPreconditions.ForWrite(request, createOnly, errors) ?? ItemPrecondition.None;
        return errors.Any ? Problems.Invalid(errors) : null;
    }

    private static async Task<IResult> Change(string id, HttpRequest request, IGrainFactory grains, FrontEndOptions options,
        [FromHeader(Name = EntityTags.IfMatch)] string? ifMatch, CancellationToken cancellation)
    {
        if (ReadPrecondition(request, createOnly: false, out var precondition) is { } invalid) return invalid;
        var (itemId, change, problem) = await ReadItemBody(id, request, grains, options, ItemBatch.ParseChange, cancellation);
        if (problem is not null) return problem;
        // Sent again after an attempt not answered in time, the same change leaves the item as one would (a conditional
        // one finds itself made).
        var outcome = await ClusterRetry.RepeatAsync(attempt => ChangeItem(grains, itemId!, change!, precondition, attempt), options.CallAttemptTimeout, cancellation);
        if (!outcome.Found) return Problems.NotFound("id", $"Item '{itemId}' is not in the catalogue; PUT /items/{{id}} creates it.");
        if (outcome.PreconditionFailed) return ItemPreconditions.Failed(itemId!, precondition, outcome.StoredAt);
        if (outcome.Refusal is { } refusal)
        {
            var errors = new ValidationErrors();
            errors.Add("expiresAt", refusal);
            return Problems.Invalid(errors);
        }
        return await Written(outcome.View!, grains, options, cancellation);
    }

    /// <summary>
    /// A change through the item's grain, checked against <paramref name="precondition"/> when there is one (the call
    /// without works on silos of the release before too).
    /// </summary>
    private static Task<ItemChangeOutcome> ChangeItem(IGrainFactory grains, string id, ItemChange change, ItemPrecondition precondition, CancellationToken attempt) =>
        precondition == ItemPrecondition.None ? grains.Item(id).Change(change, attempt) : grains.Item(id).ChangeIf(change, precondition, attempt);

    /// <summary>Items changed at once in a batch: the catalogue takes their calls one at a time anyway.</summary>
    private const int ChangesAtOnce = 16;

    private static async Task<IResult> ChangeMany(HttpRequest request, IGrainFactory grains, FrontEndOptions options, CancellationToken cancellation)
    {
        var (document, problem) = await JsonBody.ReadAsync(request, cancellation);
        if (problem is not null) return problem;
        using var _ = document;
        var errors = new ValidationErrors();
        var changes = ItemBatch.ParseChanges(document!.RootElement, await ActiveDimension(grains, options, cancellation), errors);
        if (errors.Any) return Problems.Invalid(errors);
        var outcomes = new ItemChangeOutcome[changes.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, changes.Count), new ParallelOptions { MaxDegreeOfParallelism = ChangesAtOnce, CancellationToken = cancellation },
            async (i, token) => outcomes[i] = await ClusterRetry.RepeatAsync(attempt => ChangeItem(grains, changes[i].Id, changes[i].Change, changes[i].Precondition, attempt),
                options.CallAttemptTimeout, token));
        var response = await Responses(outcomes.Select(o => o.View).OfType<ItemView>(), grains, options, cancellation);
        var results = changes.Select((c, i) => outcomes[i] switch
        {
            { Found: false } => new ItemChangeResult(c.Id, "notInCatalogue"),
            { PreconditionFailed: true, StoredAt: var at } => new ItemChangeResult(c.Id, "changedSince",
                Reason: $"The item is at version {ItemVersion.Of(at!.Value)}, written at {at.Value:O}, not at ifVersion {c.Precondition.Versions![0]}: it was written since; nothing was written.",
                Version: ItemVersion.Of(at.Value).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            { Refusal: { } reason } => new ItemChangeResult(c.Id, "refused", Reason: reason),
            { View: var view } => new ItemChangeResult(c.Id, "changed", response(view!)),
        }).ToArray();
        return Results.Ok(new ItemChangesResponse(results.Length, results.Count(r => r.Outcome == "changed"), results));
    }

    /// <summary>
    /// One item's body (PUT, PATCH): the path's id checked first, then the JSON read and parsed by
    /// <paramref name="parse"/> against the active model's dimension; a problem names what is wrong.
    /// </summary>
    private static async Task<(string? ItemId, T? Parsed, IResult? Problem)> ReadItemBody<T>(string id, HttpRequest request, IGrainFactory grains,
        FrontEndOptions options, Func<JsonElement, string, int?, ValidationErrors, T?> parse, CancellationToken cancellation) where T : class
    {
        var errors = new ValidationErrors();
        var itemId = Fields.PathId(request, id, 1, "id", errors);
        if (errors.Any) return (null, null, Problems.Invalid(errors));
        var (document, problem) = await JsonBody.ReadAsync(request, cancellation);
        if (problem is not null) return (null, null, problem);
        using var _ = document;
        var parsed = parse(document!.RootElement, itemId!, await ActiveDimension(grains, options, cancellation), errors);
        return errors.Any || parsed is null ? (null, null, Problems.Invalid(errors)) : (itemId, parsed, null);
    }

    /// <summary>
    /// The answers of several items (a lookup, a batch of changes), each with the note on why it is not recommendable
    /// when it has no row: the active version read once, and only when one of them has none.
    /// </summary>
    private static async Task<Func<ItemView, ItemResponse>> Responses(IEnumerable<ItemView> views, IGrainFactory grains, FrontEndOptions options, CancellationToken cancellation)
    {
        var active = views.Any(v => v.Placement is null) ? await ActiveModel(grains, options, cancellation) : null;
        return view => ItemResponse.From(view, view.Placement is null ? active : null);
    }

    /// <summary>The answer to a write: the item as written, with the note on why it is not recommendable when it has no row, and its version's tag.</summary>
    private static async Task<IResult> Written(ItemView view, IGrainFactory grains, FrontEndOptions options, CancellationToken cancellation) =>
        ItemPreconditions.WithETag(Results.Ok((await Responses([view], grains, options, cancellation))(view)), view.UpdatedAt);

    private static async Task<IResult> PostMany(HttpRequest request, IGrainFactory grains, FrontEndOptions options, CancellationToken cancellation)
    {
        var (document, problem) = await JsonBody.ReadAsync(request, cancellation);
        if (problem is not null) return problem;
        using var _ = document;
        var dimension = await ActiveDimension(grains, options, cancellation);
        var errors = new ValidationErrors();
        var items = ItemBatch.ParseMany(document!.RootElement, dimension, errors);
        if (errors.Any) return Problems.Invalid(errors);
        var batch = grains.GetGrain<IItemBatchGrain>(WorkerKeys.Any());
        var written = (await ClusterRetry.RunAsync(() => batch.Upsert(new Immutable<ItemDetails[]>([.. items])))).Value;
        var active = written.Any(v => v.Placement is null) ? await ActiveModel(grains, options, cancellation) : null;
        var views = written.Select(v => ItemResponse.From(v, active)).ToArray();
        return Results.Ok(new ItemsResponse(views.Length, views));
    }

    /// <summary>The longest text GET /items?title= looks for.</summary>
    public const int MaxTitleSearch = 200;

    private static async Task<IResult> Find(string? title, string? k, IGrainFactory grains, FrontEndOptions options, CancellationToken cancellation)
    {
        var errors = new ValidationErrors();
        var text = title?.Trim();
        if (string.IsNullOrEmpty(text)) errors.Add("title", "title must be given: the text to look for in items' titles, such as title=matrix.");
        else if (text.Length > MaxTitleSearch) errors.Add("title", $"title has {text.Length} characters; at most {MaxTitleSearch} are looked for.");
        var count = k is null ? 20 : Fields.K(k, errors);
        if (errors.Any) return Problems.Invalid(errors);
        var found = await ClusterRetry.RepeatAsync(() => grains.GetGrain<ISearchGrain>(WorkerKeys.Any()).FindTitles(text!, count!.Value), options.CallAttemptTimeout, cancellation);
        if (found is null) return Problems.Unavailable("No model is active yet: the catalogue is still loading.");
        return Results.Ok(new FoundItemsResponse(found.ModelVersion, [.. found.Items.Select(i => new FoundItemResponse(i.ItemId, i.Title))]));
    }

    private static async Task<IResult> Get(string id, HttpRequest request, IGrainFactory grains, FrontEndOptions options,
        [FromHeader(Name = EntityTags.IfNoneMatch)] string? ifNoneMatch, CancellationToken cancellation)
    {
        var errors = new ValidationErrors();
        var itemId = Fields.PathId(request, id, 1, "id", errors);
        if (errors.Any) return Problems.Invalid(errors);
        var view = await ClusterRetry.RepeatAsync(() => grains.Item(itemId!).Get(), options.CallAttemptTimeout, cancellation);
        if (view is null) return Problems.NotFound("id", $"Item '{itemId}' is not in the catalogue.");
        if (ItemPreconditions.NotModified(request, view.UpdatedAt, errors)) return ItemPreconditions.NotModifiedResult(view.UpdatedAt);
        if (errors.Any) return Problems.Invalid(errors);
        return ItemPreconditions.WithETag(Results.Ok(ItemResponse.From(view, view.Placement is null ? await ActiveModel(grains, options, cancellation) : null)), view.UpdatedAt);
    }

    private static async Task<IResult> Lookup(HttpRequest request, IGrainFactory grains, FrontEndOptions options, CancellationToken cancellation)
    {
        var (document, problem) = await JsonBody.ReadAsync(request, cancellation);
        if (problem is not null) return problem;
        using var _ = document;
        var errors = new ValidationErrors();
        var ids = ItemBatch.ParseIds(document!.RootElement, errors);
        if (errors.Any) return Problems.Invalid(errors);
        var views = await Task.WhenAll(ids.Select(id => ClusterRetry.RepeatAsync(() => grains.Item(id).Get(), options.CallAttemptTimeout, cancellation)));
        var found = views.OfType<ItemView>().ToArray();
        var response = await Responses(found, grains, options, cancellation);
        return Results.Ok(new ItemLookupResponse(found.Length, [.. found.Select(response)],
            [.. ids.Where((_, i) => views[i] is null)]));
    }

    private static async Task<IResult> Delete(string id, HttpRequest request, IGrainFactory grains, KnownItems knownItems, ApiMetrics metrics,
        [FromHeader(Name = EntityTags.IfMatch)] string? ifMatch)
    {
        var errors = new ValidationErrors();
        var itemId = Fields.PathId(request, id, 1, "id", errors);
        var precondition = ItemPreconditions.ForWrite(request, createOnly: false, errors);
        if (errors.Any) return Problems.Invalid(errors);
        // Sent again only when the cluster refused it: a repeat of an attempt that ran would answer deleted=false. A
        // client repeating a deletion it got no answer to finishes what the first attempt left.
        bool deleted;
        if (precondition == ItemPrecondition.None) deleted = await ClusterRetry.RunAsync(() => grains.Item(itemId!).Delete());
        else
        {
            var outcome = await ClusterRetry.RunAsync(() => grains.Item(itemId!).DeleteIf(precondition!));
            if (outcome.PreconditionFailed) return ItemPreconditions.Failed(itemId!, precondition!, outcome.StoredAt);
            deleted = outcome.Deleted;
        }
        knownItems.Forget(itemId!);
        metrics.ItemsDeleted(deleted ? 1 : 0, batch: false);
        return Results.Ok(new DeletedItemResponse(itemId!, deleted));
    }

    private static async Task<IResult> DeleteMany(HttpRequest request, IGrainFactory grains, KnownItems knownItems, ApiMetrics metrics, CancellationToken cancellation)
    {
        var (document, problem) = await JsonBody.ReadAsync(request, cancellation);
        if (problem is not null) return problem;
        using var _ = document;
        var errors = new ValidationErrors();
        var ids = ItemBatch.ParseIds(document!.RootElement, errors);
        if (errors.Any) return Problems.Invalid(errors);
        var batch = grains.GetGrain<IItemBatchGrain>(WorkerKeys.Any());
        var deleted = await ClusterRetry.RunAsync(() => batch.Delete(new Immutable<string[]>(ids)));
        foreach (var id in ids) knownItems.Forget(id);
        metrics.ItemsDeleted(deleted.Count(d => d), batch: true);
        return Results.Ok(new DeletedItemsResponse(ids.Length, deleted.Count(d => d), [.. ids.Select((id, i) => new DeletedItemResponse(id, deleted[i]))]));
    }

    /// <summary>
    /// The active model's dimension, which a given embedding must have (null before any model is active). Read before
    /// anything is written, so a failure here is answered as one that wrote nothing.
    /// </summary>
    private static async Task<int?> ActiveDimension(IGrainFactory grains, FrontEndOptions options, CancellationToken cancellation) =>
        (await ClusterRetry.BeforeWritingAsync(() => ClusterRetry.RepeatAsync(grains.GetGrain<ICatalogueGrain>(0).GetSnapshot, options.CallAttemptTimeout, cancellation))).Model?.Dimension;

    /// <summary>The active version's registry entry (whether it has a text projection, its dimension), for the note on an item that is not recommendable.</summary>
    private static async Task<ModelInfo?> ActiveModel(IGrainFactory grains, FrontEndOptions options, CancellationToken cancellation)
    {
        var catalogue = grains.GetGrain<ICatalogueGrain>(0);
        return (await ClusterRetry.RepeatAsync(catalogue.GetSnapshot, options.CallAttemptTimeout, cancellation)).Model is { } model
            ? await ClusterRetry.RepeatAsync(() => catalogue.GetModel(model.Version), options.CallAttemptTimeout, cancellation)
            : null;
    }

    private static async Task<IResult> Similar(string id, string? k, string? offset, string? exclude, string[]? excludeId, string[]? tag, string[]? excludeTag,
        string? diversity, string[]? boost, string[]? cap, string[]? capEach, string[]? pin, string[]? slot, string? fresh, string? maxAge, string? scenario,
        HttpRequest request, IGrainFactory grains, ApiMetrics metrics, FrontEndOptions options, ScenarioCache scenarios, PinAvailability pinAvailability,
        CancellationToken cancellation)
    {
        var errors = new ValidationErrors();
        var itemId = Fields.PathId(request, id, 1, "id", errors);
        var count = Fields.K(k, errors);
        var lambda = Fields.Diversity(diversity, errors);
        var skip = Fields.Offset(offset, count, lambda, errors);
        var excluded = Fields.Exclusions(exclude, excludeId, errors);
        var tags = Fields.TagFilters(tag, excludeTag, errors);
        var boosts = Fields.Boosts(boost, errors);
        var caps = Fields.Caps(cap, capEach, errors);
        var pins = Fields.Pins(pin, errors);
        var slots = Fields.Slots(slot, errors);
        var freshness = Fields.Fresh(fresh, errors);
        var age = Fields.MaxAge(maxAge, errors);
        var asked = errors.Any ? null : new RecommendationRequest(count!.Value, Exclude: excluded, Tag: tags.Tag, Diversity: lambda, Offset: skip, Tags: tags.Tags,
            ExcludeTags: tags.ExcludeTags, Boosts: boosts, Caps: caps, Pins: pins, Slots: slots, Fresh: freshness, MaxAge: age);
        // A list without a history to leave out has no use for a scenario's includeSeen.
        var list = await scenarios.ApplyAsync(scenario, asked, new ScenarioRules.Given(tag is { Length: > 0 }, diversity is not null, k is not null, IncludeSeen: true), errors, options.CallAttemptTimeout, cancellation);
        if (errors.Any) return Problems.Invalid(errors);
        var filter = ScanFilter.For(list!, list!.Exclude ?? []);
        if (!await ClusterRetry.RepeatAsync(() => grains.Item(itemId!).Exists(), options.CallAttemptTimeout, cancellation))
            return Problems.NotFound("id", $"Item '{itemId}' is not in the catalogue.");
        var clock = Stopwatch.StartNew();
        var ranking = await ClusterRetry.RepeatAsync(() => grains.GetGrain<ISearchGrain>(WorkerKeys.Of(itemId!)).Similar(itemId!, filter), options.CallAttemptTimeout, cancellation);
        if (ranking is not null)
        {
            metrics.Recommended(ranking, clock.Elapsed, RecommendationSubject.Similar);
            metrics.Placements(ranking, ListKind.Similar, list.Scenario);
        }
        return ranking is null
            ? Problems.NotFound("id", $"Item '{itemId}' has no vector in the active model (add an embedding, or activate a model with a text projection, to make it recommendable).")
            : Results.Ok(new SimilarItemsResponse(itemId!, ranking.ModelVersion, ranking.Items.Select(RecommendedItem.From).ToArray(),
                await pinAvailability.DescribeAsync(ranking.UnplacedPins, cancellation), UnfilledSlotResponse.From(ranking.UnfilledSlots)));
    }
}

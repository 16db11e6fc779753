using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Recommender.Abstractions;
using Recommender.Api.Validation;

namespace Recommender.Api;

/// <summary>
/// Query parameters and headers are bound as text and validated by hand (so that a bad value is a problem naming it);
/// this gives the OpenAPI document their real types, bounds, defaults and meaning, so that generated clients get them right.
/// </summary>
public sealed class OpenApiParameters : IOpenApiOperationTransformer
{
    private static readonly Dictionary<string, (Func<OpenApiSchema> Schema, string Description)> Parameters = new(StringComparer.Ordinal)
    {
        ["k"] = (() => new() { Type = JsonSchemaType.Integer, Minimum = "1", Maximum = Limits.MaxK.ToString(System.Globalization.CultureInfo.InvariantCulture), Default = JsonValue.Create(Limits.DefaultK) },
            "How many items to return."),
        ["offset"] = (() => new() { Type = JsonSchemaType.Integer, Minimum = "0", Maximum = (Limits.MaxK - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), Default = JsonValue.Create(0) },
            $"How many items of the list to skip before the k returned: offset=20&k=20 is the second page of 20. The list is ranked to offset + k "
            + $"(at most {Limits.MaxK}), so pages read in turn make up the list one read of that depth gives, with the same filters; "
            + "each score is the item's softmax share among the items down to the page's end. Not with diversity (a diverse list's pool grows with its length)."),
        ["limit"] = (() => new() { Type = JsonSchemaType.Integer, Minimum = "1" },
            "Return only this many of the most recent entries: of a user's events (default: all retained), of the scenarios' changes (default 20)."),
        ["type"] = (() => new() { Type = JsonSchemaType.String, Enum = [.. Enum.GetValues<EventType>().Select(t => (System.Text.Json.Nodes.JsonNode)JsonValue.Create(EventTypes.Name(t)))] },
            "Take back only the item's events of this type (any case), such as purchase for a refund; without it, every event of the item."),
        ["unknownItems"] = (() => new() { Type = JsonSchemaType.String, Enum = [JsonValue.Create("refuse"), JsonValue.Create("accept")], Default = JsonValue.Create("refuse") },
            "refuse: an event naming an item not in the catalogue is an error naming it, and nothing of the batch is written. accept: such events are stored "
            + "(an item deleted since a client buffered its event; the model reads the items it was trained on and passes over the rest), and the answer's notInCatalogue names the items."),
        ["includeSeen"] = (() => new() { Type = JsonSchemaType.Boolean, Default = JsonValue.Create(false) },
            "Let items already in the user's history be recommended."),
        ["explain"] = (() => new() { Type = JsonSchemaType.Boolean, Default = JsonValue.Create(false) },
            "Add to each model-ranked item the recent history items closest to it ('because')."),
        ["exclude"] = (() => new() { Type = JsonSchemaType.String },
            $"Comma-separated item ids to leave out (at most {Limits.MaxExclude} with excludeId)."),
        ["excludeId"] = (() => new() { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1 } },
            "One item id to leave out, exactly as given (repeat the parameter for more): for ids that contain a comma."),
        ["diversity"] = (() => new() { Type = JsonSchemaType.Number, Minimum = "0", Maximum = "1", Default = JsonValue.Create(0) },
            "How much relevance the list gives up for items unlike each other (maximal marginal relevance over the best 4·k, at most k + 1,000, by the cosine "
            + "of the items' vectors): 0 is the most relevant items in order, 1 the best item and then each time the one least like those before it. "
            + "The items come in the order picked; each score stays the item's softmax share among the listed items. The popularity list is diversified the same way over its most popular 4·k (relevance: the log count). "
            + "A diverse list has no later pages (offset)."),
        ["tag"] = (() => new() { Type = JsonSchemaType.Array, MaxItems = Limits.MaxTags, Items = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = Limits.MaxTagLength } },
            "Only items carrying this tag (case-insensitive); repeat the parameter for items carrying any one of several."),
        ["excludeTag"] = (() => new() { Type = JsonSchemaType.Array, MaxItems = Limits.MaxTags, Items = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = Limits.MaxTagLength } },
            "Leave out items carrying this tag (case-insensitive); repeat the parameter for several."),
        ["boost"] = (() => new() { Type = JsonSchemaType.Array, MaxItems = Limits.MaxBoosts, Items = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 3, Pattern = "^.+:[^:]+$" } },
            $"TAG:FACTOR, such as sale:2 or sold-out:0.1 (the factor after the last colon, from {Limits.MinBoostFactor.ToString(System.Globalization.CultureInfo.InvariantCulture)} "
            + $"to {Limits.MaxBoostFactor.ToString(System.Globalization.CultureInfo.InvariantCulture)}): items carrying the tag (case-insensitive) weigh that many times as much, "
            + "their softmax weight (or, in the popularity list, their count) multiplied by the factor before the list is cut and its scores normalised; "
            + "an item carrying several boosted tags takes each factor. Filters (tag, excludeTag, exclude) apply first. Repeat the parameter for several tags, each once."),
        ["cap"] = (() => new() { Type = JsonSchemaType.Array, MaxItems = Limits.MaxCaps, Items = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 3, Pattern = "^.+:[0-9]+$" } },
            $"TAG:COUNT, such as sponsored:2 (the count after the last colon, from 1 to {Limits.MaxK}): at most that many items carrying the tag (case-insensitive) in the list, "
            + "counted from its top across pages; the list is taken in its order (after boosts, or as diversity picks it), passing over an item once a cap of one of its tags "
            + "is full and filling from further down, so it may come out shorter only when the items run out. Repeat the parameter for several tags, each once."),
        ["pin"] = (() => new() { Type = JsonSchemaType.Array, MaxItems = Limits.MaxPins, Items = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 3, Pattern = "^.+:[0-9]+$" } },
            $"ITEM:POSITION, such as sku-42:1 (the position after the last colon, from 1 for the top to {Limits.MaxK}, counted across pages): the item stands at that "
            + "place of the list whatever its score, marked \"pinned\": true, and the ranked items fill the other places (a later page never lists it again). A list "
            + "that may not hold the item (excluded, already seen, hidden, not available, not in the active version, or without the list's tags) fills the place from "
            + "the ranking; a list shorter than the position ends with it. Its score is its share of the list, as any item's. A pinned item counts against the caps "
            + "of its tags wherever its place (the ranked items make room for it; pins past a cap all stand); diversity picks the other places apart from it. "
            + $"At most {Limits.MaxPins}, each item and each position once."),
        ["slot"] = (() => new() { Type = JsonSchemaType.Array, MaxItems = Limits.MaxSlots, Items = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 3, Pattern = "^.+:[0-9]+$" } },
            $"TAG:POSITION, such as sponsored:3 (the position after the last colon, from 1 for the top to {Limits.MaxK}, counted across pages): that place holds the "
            + "most relevant item carrying the tag (case-insensitive) that the list may hold and does not show above it, marked \"slot\": TAG, and the ranked items "
            + "fill the other places; with no such item left, the ranking fills it (the answer's unfilledSlots names it). A pin of the same place takes it. Under caps "
            + "the item must fit them and counts against them for the places below; in a diverse list the picks below keep apart from it. "
            + $"At most {Limits.MaxSlots}, each position once."),
        ["fresh"] = (() => new() { Type = JsonSchemaType.String, MinLength = 4, Pattern = "^[0-9.]+[mhdMHD]:[^:]+$" },
            "HALFLIFE:FACTOR, such as 6h:3 (the half-life a number followed by m, h or d, from 1m to 365d; the factor as boost's): an item that became available "
            + "just now weighs FACTOR times as much, one a half-life old half as much more, and so on towards 1 (1 + (FACTOR - 1) * 2^(-age / HALFLIFE)), in its "
            + "softmax weight (or, in the popularity list, its count) as a boost's factor, with which it multiplies. An item's age counts from its availableFrom; an "
            + "item written without one keeps its weight. A factor below 1 holds new items back."),
        ["maxAge"] = (() => new() { Type = JsonSchemaType.String, MinLength = 2, Pattern = "^[0-9.]+[mhdMHD]$" },
            "A duration, a number followed by m, h or d (from 1m to 365d), such as 2d: only items that became available within it are listed (by their "
            + "availableFrom; an item written without one has no age and is not). A pinned item outside it leaves its place to the ranking (unplacedPins: tooOld)."),
        ["scenario"] = (() => new() { Type = JsonSchemaType.String, MinLength = 1, MaxLength = ScenarioNames.MaxLength, Pattern = "^[A-Za-z0-9._-]+$" },
            "The name of a scenario (PUT /scenarios/{name}): its tag filters, excluded items, pins, slots, boosts, freshness, maximum age, caps, diversity, k and includeSeen apply to the list. The request's own tag, "
            + "diversity, fresh, maxAge, k and includeSeen replace the scenario's; its boosts and caps take precedence on the tags they name, its pins on the items and places they name; "
            + "excluded tags and items, boosts, caps and pins of both add up. "
            + "A name no scenario has is refused (400)."),
        ["note"] = (() => new() { Type = JsonSchemaType.String, MaxLength = ScenarioAuthor.MaxNoteLength },
            "Why the change is made, in a line (such as a ticket or a commit), kept with it in the scenarios' history (GET /scenario-history) beside who made it."),
        ["capEach"] = (() => new() { Type = JsonSchemaType.Array, MaxItems = Limits.MaxCaps, Items = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 3, Pattern = "^.+:[0-9]+$" } },
            $"PREFIX:COUNT, such as brand::2 (the count after the last colon, from 1 to {Limits.MaxK}): a cap for each tag that starts with the prefix (case-insensitive) "
            + "on its own, so that no one brand fills more than two places when items carry tags brand:acme, brand:zeta and so on; * caps every tag (capEach=*:3, "
            + "at most three items of any one genre). An item counts against each such tag it carries. Taken like cap, and together with it at most "
            + $"{Limits.MaxCaps}. Repeat the parameter for several prefixes, each once."),
    };

    private static readonly Dictionary<string, (Func<OpenApiSchema> Schema, string Description)> Headers = new(StringComparer.OrdinalIgnoreCase)
    {
        [IdempotencyKey.HeaderName] = (() => new() { Type = JsonSchemaType.String, MinLength = 1, MaxLength = IdempotencyKey.MaxLength },
            "The client's name for this request (printable ASCII, bare or in quotes): sent again with the same key and the same " +
            "events, the request stores nothing twice, even for events without an eventId or a timestamp."),
        [Scenarios.ScenarioPreconditions.IfMatch] = (() => new() { Type = JsonSchemaType.String, MinLength = 1 },
            "The scenarios' ETag as an answer of /scenarios gave it (their revision in double quotes, such as \"7\"; several comma-separated): the change is made only "
            + "while the scenarios are still at that revision, and is otherwise refused with 412 and nothing changed. * asks only that the scenario exist (on /scenarios/{name})."),
        [Scenarios.ScenarioPreconditions.IfNoneMatch] = (() => new() { Type = JsonSchemaType.String, MinLength = 1 },
            "On a read, the ETag the client holds: 304 Not Modified, without a body, while the scenarios are still at that revision. "
            + "On PUT /scenarios/{name}, * only: store the scenario only if there is none of that name yet (412 otherwise)."),
    };

    // An item's tags are its versions, not the scenarios' revisions: the same headers, said of /items/{id}.
    private static readonly Dictionary<string, (Func<OpenApiSchema> Schema, string Description)> ItemHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        [Validation.EntityTags.IfMatch] = (() => new() { Type = JsonSchemaType.String, MinLength = 1 },
            "The item's ETag as GET /items/{id} (or the last write) gave it (its version in double quotes; several comma-separated): the write is made only "
            + "while the item is still at that version, and is otherwise refused with 412 and nothing written. * asks only that the item exist."),
        [Validation.EntityTags.IfNoneMatch] = (() => new() { Type = JsonSchemaType.String, MinLength = 1 },
            "On GET, the ETag the client holds: 304 Not Modified, without a body, while the item is still at that version. "
            + "On PUT, * only: write the item only if it is not in the catalogue yet (412 otherwise)."),
    };

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
        {
            var table = parameter.In switch
            {
                ParameterLocation.Query => Parameters,
                ParameterLocation.Header => context.Description.RelativePath?.StartsWith("items/", StringComparison.Ordinal) == true ? ItemHeaders : Headers,
                _ => null,
            };
            if (table is null || parameter.Name is not { } name || !table.TryGetValue(name, out var known)) continue;
            parameter.Schema = known.Schema();
            parameter.Description = known.Description;
        }
        return Task.CompletedTask;
    }
}

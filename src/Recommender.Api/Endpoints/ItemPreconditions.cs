using System.Globalization;
using Recommender.Abstractions;
using Recommender.Api.Validation;

namespace Recommender.Api.Endpoints;

/// <summary>
/// An item's ETag is its version (<see cref="ItemVersion"/>), a number in double quotes that every write of the item
/// moves on (RFC 9110, section 13). GET /items/{id}, PUT and PATCH answer it; PUT, PATCH and DELETE sent with If-Match
/// are made only while the item is still at that version (If-Match: * only while it exists, and PUT with
/// If-None-Match: * only while it does not), and a read sent with If-None-Match is answered 304 while it is. So that an
/// operator's edit, made against what one read showed, does not undo a change another client made meanwhile.
/// </summary>
public static class ItemPreconditions
{
    public static string ETag(DateTimeOffset updatedAt) => EntityTags.Of(ItemVersion.Of(updatedAt));

    private const string Example = "\"638700000000000000\" (the ETag of GET /items/{id})";

    /// <summary>
    /// The condition of a write's If-Match (and, when <paramref name="createOnly"/> may be asked, PUT: If-None-Match: *);
    /// <see cref="ItemPrecondition.None"/> without either, null with the fault under the header's name when one is
    /// malformed or asks what this write cannot take.
    /// </summary>
    public static ItemPrecondition? ForWrite(HttpRequest request, bool createOnly, ValidationErrors errors)
    {
        long[]? versions = null;
        bool? exists = null;
        if (request.Headers.IfMatch.Count > 0)
        {
            if (EntityTags.Parse(request.Headers.IfMatch, EntityTags.IfMatch, Example, errors) is not { } tags) return null;
            if (EntityTags.IsAny(tags)) exists = true;
            else if (EntityTags.MixesAny(tags))
            {
                errors.Add(EntityTags.IfMatch, "If-Match is either * or a list of entity tags, not both.");
                return null;
            }
            else
                // If-Match compares strongly: a weak tag, or one these answers never gave, matches no version (412).
                versions = [.. tags.Where(t => !t.IsWeak).Select(t => EntityTags.Number(t.Tag.Value)).OfType<long>()];
        }
        if (request.Headers.IfNoneMatch.Count > 0)
        {
            if (!createOnly)
            {
                errors.Add(EntityTags.IfNoneMatch, "If-None-Match: * asks that an item not exist yet, which only PUT /items/{id} can ask; send If-Match to make a change conditional.");
                return null;
            }
            if (EntityTags.Parse(request.Headers.IfNoneMatch, EntityTags.IfNoneMatch, Example, errors) is not { } tags) return null;
            if (!EntityTags.IsAny(tags))
            {
                errors.Add(EntityTags.IfNoneMatch, "PUT /items/{id} takes If-None-Match: * only (write the item only if it is not in the catalogue yet).");
                return null;
            }
            if (exists is not null || versions is not null)
            {
                errors.Add(EntityTags.IfNoneMatch, "If-Match (the item must exist) and If-None-Match: * (it must not) cannot both hold.");
                return null;
            }
            exists = false;
        }
        return versions is null && exists is null ? ItemPrecondition.None : new ItemPrecondition(versions, exists);
    }

    /// <summary>
    /// Whether a read's If-None-Match (compared weakly) is * or names the version the item is at, so that 304 answers
    /// it; false, with the fault under the header's name, when it is malformed.
    /// </summary>
    public static bool NotModified(HttpRequest request, DateTimeOffset updatedAt, ValidationErrors errors)
    {
        if (request.Headers.IfNoneMatch.Count == 0 || EntityTags.Parse(request.Headers.IfNoneMatch, EntityTags.IfNoneMatch, Example, errors) is not { } tags) return false;
        var version = ItemVersion.Of(updatedAt);
        return tags.Any(t => t.Equals(Microsoft.Net.Http.Headers.EntityTagHeaderValue.Any) || EntityTags.Number(t.Tag.Value) == version);
    }

    /// <summary>The 304 of a read whose tag is still current: no body, the tag again.</summary>
    public static IResult NotModifiedResult(DateTimeOffset updatedAt) => WithETag(Results.StatusCode(StatusCodes.Status304NotModified), updatedAt);

    /// <summary>
    /// The 412 of a write the item refused for <paramref name="precondition"/>: which part failed against the version
    /// the item was at (<paramref name="storedAt"/>, null when not stored), whose tag the answer carries so that the
    /// client reads the item again.
    /// </summary>
    public static IResult Failed(string id, ItemPrecondition precondition, DateTimeOffset? storedAt)
    {
        var now = storedAt is { } at
            ? $"it is at version {ETag(at)}, written at {at.ToString("O", CultureInfo.InvariantCulture)}"
            : "it is not in the catalogue";
        var (header, message) = precondition switch
        {
            { Exists: true } => (EntityTags.IfMatch, $"If-Match: * asks that item '{id}' exist, and {now}. Nothing was written."),
            { Exists: false } => (EntityTags.IfNoneMatch, $"If-None-Match: * asks that item '{id}' not exist yet, and {now}. Nothing was written."),
            { Versions: [] } => (EntityTags.IfMatch, $"If-Match names no version of item '{id}' (a strong tag such as {Example}), and {now}. Nothing was written."),
            _ => (EntityTags.IfMatch, $"If-Match names version {string.Join(" or ", (precondition.Versions ?? []).Select(EntityTags.Of))} of item '{id}', and {now}"
                + (storedAt is null ? ". Nothing was written." : ": it was written since. Nothing was written; read it again (GET /items/{id}) and send the change against what it holds now.")),
        };
        var problem = Results.ValidationProblem(new Dictionary<string, string[]> { [header] = [message] }, title: "The precondition failed.",
            statusCode: StatusCodes.Status412PreconditionFailed, extensions: new Dictionary<string, object?> { ["updatedAt"] = storedAt });
        return storedAt is { } version ? WithETag(problem, version) : problem;
    }

    /// <summary><paramref name="inner"/> with the item's tag at <paramref name="updatedAt"/> in its ETag header.</summary>
    public static IResult WithETag(IResult inner, DateTimeOffset updatedAt) => EntityTags.WithTag(inner, ETag(updatedAt));
}

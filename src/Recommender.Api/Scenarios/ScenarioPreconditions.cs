using System.Globalization;
using Microsoft.Net.Http.Headers;
using Recommender.Abstractions;
using Recommender.Api.Validation;

namespace Recommender.Api.Scenarios;

/// <summary>
/// A tag "7" stands for the scenarios as they were at revision 7 (RFC 9110, section 13). Answers about them all carry
/// the set's revision, and a change of the whole set sent with If-Match is made only while the set is still at that
/// revision; one scenario's answers carry the revision that last stored it, and a change of it (or of several named
/// scenarios, PATCH) is made only while they are still as they were at the revision named: stored or deleted at or
/// before it, whatever happened to other scenarios since. A read sent with If-None-Match is answered 304 likewise. So
/// that a merchandiser's change, reviewed against what one read showed, is not made over another's change of the same
/// scenario, is not refused for a change of another one, and a poller reads only what changed.
/// </summary>
public static class ScenarioPreconditions
{
    public const string IfMatch = EntityTags.IfMatch;
    public const string IfNoneMatch = EntityTags.IfNoneMatch;

    public static string ETag(long revision) => EntityTags.Of(revision);

    /// <summary>
    /// The condition a change's If-Match (and, for one scenario, <paramref name="createOnly"/>: If-None-Match: *) sets;
    /// null, with the fault under the header's name, when a header is malformed or asks what this change cannot take.
    /// <paramref name="single"/> says the change is of one scenario, for which If-Match: * asks that it exist.
    /// </summary>
    public static ScenarioPrecondition? ForChange(HttpRequest request, bool single, bool createOnly, ValidationErrors errors)
    {
        long[]? revisions = null;
        bool? exists = null;
        if (request.Headers.IfMatch.Count > 0)
        {
            if (Tags(request.Headers.IfMatch, IfMatch, errors) is not { } tags) return null;
            if (EntityTags.IsAny(tags))
                exists = single ? true : null;
            else if (EntityTags.MixesAny(tags))
            {
                errors.Add(IfMatch, "If-Match is either * or a list of entity tags, not both.");
                return null;
            }
            else
                // If-Match compares strongly: a weak tag, or one these answers never gave, matches no revision (412).
                revisions = [.. tags.Where(t => !t.IsWeak).Select(t => Revision(t.Tag.Value)).OfType<long>()];
        }
        if (request.Headers.IfNoneMatch.Count > 0)
        {
            if (!createOnly)
            {
                errors.Add(IfNoneMatch, "If-None-Match: * asks that a scenario not exist yet, which only PUT /scenarios/{name} can ask; send If-Match to make a change conditional.");
                return null;
            }
            if (Tags(request.Headers.IfNoneMatch, IfNoneMatch, errors) is not { } tags) return null;
            if (!EntityTags.IsAny(tags))
            {
                errors.Add(IfNoneMatch, "PUT /scenarios/{name} takes If-None-Match: * only (store the scenario only if there is none of that name yet).");
                return null;
            }
            if (exists is true)
            {
                errors.Add(IfNoneMatch, "If-Match: * (the scenario must exist) and If-None-Match: * (it must not) cannot both hold.");
                return null;
            }
            exists = false;
        }
        return revisions is null && exists is null ? ScenarioPrecondition.None : new ScenarioPrecondition(revisions, exists);
    }

    /// <summary>
    /// Whether a read's If-None-Match (compared weakly) is *, or names a revision at which what it reads was as it is:
    /// from <paramref name="changed"/>, when it was last stored, to <paramref name="revision"/>, the set's now; so that
    /// 304 answers it. False, with the fault under the header's name, when it is malformed.
    /// </summary>
    public static bool NotModified(HttpRequest request, long changed, long revision, ValidationErrors errors)
    {
        if (request.Headers.IfNoneMatch.Count == 0 || Tags(request.Headers.IfNoneMatch, IfNoneMatch, errors) is not { } tags) return false;
        return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || Revision(t.Tag.Value) is { } named && named >= changed && named <= revision);
    }

    /// <summary>The revision that stored <paramref name="scenario"/> (the set's, for a record stored before scenarios kept their own): its tag.</summary>
    public static long RevisionOf(Scenario scenario, ScenarioSet set) => scenario.Revision > 0 ? scenario.Revision : set.Revision;

    /// <summary>The 304 of a read whose tag is still current: no body, the tag again.</summary>
    public static IResult NotModifiedResult(long revision) => WithETag(Results.StatusCode(StatusCodes.Status304NotModified), revision);

    /// <summary>
    /// The 412 of a change the grain refused for <paramref name="precondition"/>: which part failed against
    /// <paramref name="met"/> (the set the change met), with that set's revision, so that the client reads it again;
    /// <paramref name="changed"/> names the scenarios the change was of (none for the whole set), the latest stored of
    /// which the answer names.
    /// </summary>
    public static IResult Failed(ScenarioPrecondition precondition, ScenarioSet met, string? name, IEnumerable<string>? changed = null)
    {
        var exists = name is not null && met.Scenarios.ContainsKey(name);
        var now = $"the scenarios are at revision {met.Revision} (ETag {ETag(met.Revision)})";
        var latest = (name is null ? changed ?? [] : [name])
            .Select(n => met.Scenarios.GetValueOrDefault(n) is { Revision: > 0 } s ? (Name: n, s.Revision) : default)
            .Where(s => s.Name is not null).OrderByDescending(s => s.Revision).FirstOrDefault();
        var since = latest.Name is not null && precondition.Revisions is { Length: > 0 } named && named.All(r => r < latest.Revision)
            ? $"scenario '{latest.Name}' was stored at revision {latest.Revision}, after it"
            : "they were changed since";
        var (header, message) = precondition switch
        {
            { Exists: true } when !exists => (IfMatch, $"If-Match: * asks that scenario '{name}' exist, and it does not; {now}. Nothing was changed."),
            { Exists: false } when exists => (IfNoneMatch, $"If-None-Match: * asks that scenario '{name}' not exist yet, and it does; {now}. Nothing was changed."),
            { Revisions: [] } => (IfMatch, $"If-Match names no revision of the scenarios (a strong tag such as {ETag(met.Revision)}, as every answer of /scenarios gives in ETag); " +
                $"{now}. Nothing was changed."),
            _ => (IfMatch, $"If-Match names revision {string.Join(" or ", (precondition.Revisions ?? []).Select(r => r.ToString(CultureInfo.InvariantCulture)))} of the scenarios, and {now}: " +
                $"{since}. Nothing was changed; read them again (GET /scenarios) and send the change against what they hold now."),
        };
        return WithETag(Results.ValidationProblem(new Dictionary<string, string[]> { [header] = [message] }, title: "The precondition failed.",
            statusCode: StatusCodes.Status412PreconditionFailed, extensions: new Dictionary<string, object?> { ["revision"] = met.Revision }), met.Revision);
    }

    /// <summary><paramref name="inner"/> with the scenarios' tag at <paramref name="revision"/> in its ETag header.</summary>
    public static IResult WithETag(IResult inner, long revision) => EntityTags.WithTag(inner, ETag(revision));

    private static IList<EntityTagHeaderValue>? Tags(Microsoft.Extensions.Primitives.StringValues values, string header, ValidationErrors errors) =>
        EntityTags.Parse(values, header, "\"7\" (the ETag of an answer of /scenarios)", errors);

    /// <summary>The revision a tag "N" names; null for any other tag.</summary>
    private static long? Revision(string? quoted) => EntityTags.Number(quoted);
}

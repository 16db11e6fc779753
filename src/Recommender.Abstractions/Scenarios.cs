namespace Recommender.Abstractions;

/// <summary>
/// A named set of list rules for one place lists are shown (a home page, a cart, an e-mail), kept in the cluster so
/// that merchandisers change them without a client release: a request naming the scenario (<c>scenario=home</c>) gets
/// its tag filters, items to leave out, items pinned to places, boosts, a freshness boost, a maximum age, caps, diversity, list length and whether seen items may be listed (a "buy again" row), unless
/// it gives its own (the API's ScenarioRules say how they join). With <see cref="ActiveFrom"/> or <see cref="ActiveUntil"/>
/// the rules hold within that time only (a campaign): outside it a list read under the scenario gets none of them.
/// <see cref="Revision"/> is the revision of the scenarios that stored this record (0 in a record stored before
/// scenarios kept their own), its entity tag on its own.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.scenario")]
public sealed record Scenario(
    [property: Id(0)] string[]? Tags,
    [property: Id(1)] string[]? ExcludeTags,
    [property: Id(2)] TagBoost[]? Boosts,
    [property: Id(3)] TagCap[]? Caps,
    [property: Id(4)] float? Diversity,
    [property: Id(5)] DateTimeOffset UpdatedAt,
    [property: Id(6)] int? K = null,
    [property: Id(7)] bool? IncludeSeen = null,
    [property: Id(8)] DateTimeOffset? ActiveFrom = null,
    [property: Id(9)] DateTimeOffset? ActiveUntil = null,
    [property: Id(10)] string[]? Exclude = null,
    [property: Id(11)] ItemPin[]? Pins = null,
    [property: Id(12)] long Revision = 0,
    [property: Id(13)] TagSlot[]? Slots = null,
    [property: Id(14)] Freshness? Fresh = null,
    [property: Id(15)] TimeSpan? MaxAge = null)
{
    /// <summary>Whether the rules hold at <paramref name="now"/>: from <see cref="ActiveFrom"/> on, and before <see cref="ActiveUntil"/>.</summary>
    public bool ActiveAt(DateTimeOffset now) => (ActiveFrom is not { } from || now >= from) && (ActiveUntil is not { } until || now < until);

    /// <summary>Whether <paramref name="other"/> holds the same rules (whenever each was stored).</summary>
    public bool SameRules(Scenario other) =>
        Same(Tags, other.Tags) && Same(ExcludeTags, other.ExcludeTags) && Same(Boosts, other.Boosts) && Same(Caps, other.Caps)
        && Diversity == other.Diversity && K == other.K && IncludeSeen == other.IncludeSeen && ActiveFrom == other.ActiveFrom && ActiveUntil == other.ActiveUntil
        && Same(Exclude, other.Exclude) && Same(Pins, other.Pins) && Same(Slots, other.Slots) && Fresh == other.Fresh && MaxAge == other.MaxAge;

    private static bool Same<T>(T[]? a, T[]? b) => (a ?? []).SequenceEqual(b ?? []);
}

/// <summary>Every scenario by name, with a revision that changes whenever one does.</summary>
[GenerateSerializer, Immutable, Alias("recommender.scenario-set")]
public sealed record ScenarioSet(
    [property: Id(0)] long Revision,
    [property: Id(1)] IReadOnlyDictionary<string, Scenario> Scenarios);

/// <summary>
/// What a change of several scenarios at once did, or for a dry run would do: the names stored anew, those given with
/// the rules they had already (kept as they were, their time of change included) and those deleted, each in name order;
/// <see cref="Set"/> is the set after the change (for a dry run, the set now), <see cref="Before"/> the set it met.
/// <see cref="Result"/> is the scenarios as the change leaves them (for a dry run, would leave them). When
/// <see cref="Refusal"/> says why it was refused, nothing was changed and the lists of names are empty.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.scenarios-applied")]
public sealed record ScenariosApplied(
    [property: Id(0)] ScenarioSet Set,
    [property: Id(1)] string[] Put,
    [property: Id(2)] string[] Unchanged,
    [property: Id(3)] string[] Deleted,
    [property: Id(4)] ScenarioSet Before,
    [property: Id(5)] ScenarioRefusal? Refusal = null,
    [property: Id(6)] IReadOnlyDictionary<string, Scenario>? Result = null);

/// <summary>
/// What a change of one scenario did: the set after it (refused: the set it met), whether it changed anything (false
/// for a delete of a scenario that was not there) and, when it was refused, why (nothing was changed then).
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.scenario-written")]
public sealed record ScenarioWritten(
    [property: Id(0)] ScenarioSet Set,
    [property: Id(1)] bool Changed,
    [property: Id(2)] ScenarioRefusal? Refusal = null);

/// <summary>
/// The scenarios' recent changes, newest first (<see cref="Changes"/>), at <see cref="Revision"/>; <see cref="Oldest"/>
/// is the earliest revision they reach back to, the earliest one the scenarios can be restored to.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.scenario-history")]
public sealed record ScenarioHistory(
    [property: Id(0)] long Revision,
    [property: Id(1)] long Oldest,
    [property: Id(2)] ScenarioHistoryEntry[] Changes);

/// <summary>One change: the revision it made, when, by whom and why (when known), and each scenario it stored or deleted.</summary>
[GenerateSerializer, Immutable, Alias("recommender.scenario-history-entry")]
public sealed record ScenarioHistoryEntry(
    [property: Id(0)] long Revision,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] ScenarioEdit[] Edits,
    [property: Id(3)] ScenarioAuthor? Author = null);

/// <summary>A scenario's record before a change and after it (null: there was none, or is none).</summary>
[GenerateSerializer, Immutable, Alias("recommender.scenario-edit")]
public sealed record ScenarioEdit(
    [property: Id(0)] string Name,
    [property: Id(1)] Scenario? Before,
    [property: Id(2)] Scenario? After);

/// <summary>
/// Who made a change of scenarios (the API key that sent it, such as "admin key 1", or on an API without keys the
/// address it came from) and why, in the sender's words (optional), so that the history answers who changed what.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.scenario-author")]
public sealed record ScenarioAuthor(
    [property: Id(0)] string? By = null,
    [property: Id(1)] string? Note = null)
{
    public const int MaxNoteLength = 200;

    public static readonly ScenarioAuthor Unknown = new();
}

/// <summary>Why the scenarios' grain refused a change.</summary>
public enum ScenarioRefusal
{
    /// <summary>The cluster would keep more than <see cref="Limits.MaxScenarios"/> scenarios.</summary>
    TooMany,

    /// <summary>The set was not at a revision the change named, or the scenario was (not) there when it had to be (not).</summary>
    PreconditionFailed,

    /// <summary>A restore named a revision later than the scenarios' or earlier than their history reaches.</summary>
    NotInHistory,
}

/// <summary>
/// What must hold for a change of scenarios to be made (HTTP If-Match and If-None-Match): the scenarios it changes as
/// they were at one of <see cref="Revisions"/> (null: at any; for a change of the whole set, the set at one of them),
/// and, for a change of one scenario, the scenario there already
/// (<see cref="Exists"/> true: If-Match: *) or not yet (false: If-None-Match: *, create only). So that a change planned
/// against what one client read is not made over a change another made since.
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.scenario-precondition")]
public sealed record ScenarioPrecondition(
    [property: Id(0)] long[]? Revisions = null,
    [property: Id(1)] bool? Exists = null)
{
    public static readonly ScenarioPrecondition None = new();

    /// <summary>Whether a set at <paramref name="revision"/> that holds the scenario (<paramref name="exists"/>) or not meets it.</summary>
    public bool HeldBy(long revision, bool exists) => HeldSince(revision, revision, exists);

    /// <summary>
    /// Whether a change of scenarios last changed at <paramref name="changed"/> (the latest revision that stored or deleted
    /// any of them), in a set at <paramref name="revision"/>, meets it: a revision named is one at which they were as they
    /// are now, from <paramref name="changed"/> to <paramref name="revision"/>.
    /// </summary>
    public bool HeldSince(long changed, long revision, bool exists) =>
        (Revisions is null || Revisions.Any(r => r >= changed && r <= revision)) && (Exists is not { } must || must == exists);
}

/// <summary>A scenario's name: what is wrong with it, as the end of a sentence, or null when it is fine.</summary>
public static class ScenarioNames
{
    public const int MaxLength = 64;

    /// <summary>The key of the one grain that keeps every scenario.</summary>
    public const string GrainKey = "scenarios";

    public static string? Problem(string name)
    {
        if (name.Length == 0) return "must not be empty";
        if (name.Length > MaxLength) return $"is {name.Length} characters long; the limit is {MaxLength}";
        // Names go in URL paths and query strings as they are, and in metric labels.
        return name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && name is not ("." or "..")
            ? null
            : "may hold only ASCII letters, digits, '-', '_' and '.' (such as home-page or cart.upsell)";
    }
}

namespace Recommender.Abstractions;

/// <summary>Input limits shared by the API's validation and the grains' own checks.</summary>
public static class Limits
{
    public const int MaxIdLength = 256;

    /// <summary>
    /// What is wrong with a user or item id, as the end of a sentence ("must not be empty"), or null when it is fine.
    /// Length counts characters (Unicode scalar values), so an emoji counts once.
    /// </summary>
    public static string? IdProblem(string id)
    {
        if (id.Length == 0) return "must not be empty";
        // An id must be writable in a URL path (GET /users/{id}/history), and a control character is not, in practice.
        if (id.Any(char.IsControl)) return "must not contain control characters";
        // Line and paragraph separators end a line in the files ids are exported to.
        if (id.Contains('\u2028') || id.Contains('\u2029')) return "must not contain line or paragraph separators";
        // Spaces and invisible format characters (such as a zero-width space) alone read as no id at all.
        if (id.All(c => char.IsWhiteSpace(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format)) return "must not be blank";
        // A URL path cannot carry these (clients and servers resolve them as path steps, even percent-encoded).
        if (id is "." or "..") return "must not be '.' or '..'";
        var length = id.EnumerateRunes().Count();
        return length > MaxIdLength ? $"is {length} characters long; the limit is {MaxIdLength}" : null;
    }
    public const int MaxK = 1000;
    public const int DefaultK = 10;
    public const int MaxTitleLength = 1000;
    public const int MaxTextLength = 20_000;
    public const int MaxTags = 200;
    public const int MaxTagLength = 200;

    /// <summary>Boosts a request may give (each a tag and a factor, tested against every candidate row), and a factor's bounds.</summary>
    public const int MaxBoosts = 20;
    public const double MinBoostFactor = 0.01;
    public const double MaxBoostFactor = 100;

    /// <summary>A freshness boost's half-life bounds (its factor's are a boost's).</summary>
    public static readonly TimeSpan MinFreshHalfLife = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxFreshHalfLife = TimeSpan.FromDays(365);

    /// <summary>Caps a request may give (each a tag and the most items carrying it a list may hold).</summary>
    public const int MaxCaps = 20;

    /// <summary>Items a list may pin to fixed places (each an item id and a position from 1 to <see cref="MaxK"/>).</summary>
    public const int MaxPins = 10;

    /// <summary>Places a list may reserve for the best item of a tag (each a tag and a position from 1 to <see cref="MaxK"/>).</summary>
    public const int MaxSlots = 10;

    /// <summary>Scenarios a cluster keeps (named list rules; see <see cref="Scenario"/>).</summary>
    public const int MaxScenarios = 200;

    /// <summary>Item ids a scenario may leave out of its lists (a placement's block list; the catalogue's hidden flag is for every list).</summary>
    public const int MaxScenarioExclude = 100;

    /// <summary>Changes of the scenarios their history keeps (and so the revisions they can be restored to).</summary>
    public const int ScenarioHistoryChanges = 50;

    /// <summary>Earlier scenario records the history keeps over all its changes; past it the oldest changes go (the newest always stays).</summary>
    public const int ScenarioHistoryRecords = 1_000;
    public const long MaxBodyBytes = 1024 * 1024;
    public const int MaxExclude = 1000;

    /// <summary>Users per POST /users/recommendations, and the items all their lists may hold together (users × (offset + k)).</summary>
    public const int MaxUsersPerRequest = 1000;
    public const int MaxItemsPerUsersRequest = 100_000;

    /// <summary>
    /// The longest request line (method, path and query) the web server reads: the query carries up to
    /// <see cref="MaxExclude"/> ids, which the usual 8 KB line would refuse, without a problem document, long before
    /// that count (a thousand ids of 256 ASCII characters take about 260 KB). As large as a JSON body may be.
    /// </summary>
    public const int MaxRequestLineBytes = 1024 * 1024;

    /// <summary>Events one POST /events may carry: a batch is answered within a few seconds even when every event is a new user's.</summary>
    public const int MaxEventsPerRequest = 1000;

    /// <summary>Items a session (POST /recommendations) may send: more than any model reads, which is the most recent ones.</summary>
    public const int MaxSessionItems = 1000;

    /// <summary>Items one POST /items may carry: each item's text is encoded before the answer (500 took 6 s on two busy cores, a fifth of the call timeout).</summary>
    public const int MaxItemsPerRequest = 500;

    /// <summary>Items one POST /items/delete or /items/lookup may name.</summary>
    public const int MaxIdsPerRequest = 1000;

    /// <summary>
    /// Bounds on the Euclidean norm of an item vector (given with an item or in a package): above the upper bound a
    /// dot product can overflow float32; below the lower one a vector has no usable direction.
    /// </summary>
    public const double MaxVectorNorm = 1e6;

    public const double MinVectorNorm = 1e-6;

    /// <summary>The Euclidean norm that <see cref="MaxVectorNorm"/> and <see cref="MinVectorNorm"/> bound, summed in double so that a row of large finite floats reports its true norm instead of infinity.</summary>
    public static double VectorNorm(ReadOnlySpan<float> vector)
    {
        var sum = 0.0;
        foreach (var x in vector) sum += (double)x * x;
        return Math.Sqrt(sum);
    }

    /// <summary>A model upload (all three files) may be this large; Orleans carries it to the registry in one message.</summary>
    public const long MaxModelUploadBytes = 64L * 1024 * 1024;

    /// <summary>Events may carry timestamps at most this far ahead of the server clock.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromDays(1);
}

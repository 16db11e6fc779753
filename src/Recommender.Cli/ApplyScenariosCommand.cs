using System.CommandLine;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Recommender.Cli;

/// <summary>
/// recommender apply-scenarios: makes the cluster's scenarios (named list rules) what a file says, so that they can be
/// kept under version control and reviewed like code. The file is one JSON object, each scenario's name to the body
/// PUT /scenarios/{name} takes. It is sent whole, in one change (PATCH /scenarios, or with --prune PUT /scenarios,
/// which deletes the scenarios the file does not name): the cluster checks every rule first, and one it refuses leaves
/// every scenario as it was. Sending the same file again changes nothing more, so a run whose answer was lost is repeated.
/// With --if-revision the change is made only while the scenarios the file names (with --prune, all of them) are as
/// they were at the revision a dry run (or export-scenarios) reported, so that what was reviewed is what is applied.
/// </summary>
internal static class ApplyScenariosCommand
{
    public static Command Create()
    {
        var file = new Option<FileInfo>("--file")
        {
            Description = "A JSON object of scenarios: {\"home\": {\"boost\": [\"sale:2\"], \"capEach\": [\"brand::2\"]}, \"cart\": {...}}.",
            Required = true,
        };
        var prune = new Option<bool>("--prune") { Description = "Also delete the cluster's scenarios the file does not name." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Say what would be put and deleted, and the scenarios' revision that it was read against, and change nothing." };
        var note = NoteOption("Why the change is made, in a line (a ticket, a commit), kept with it in the scenarios' history (scenario-history) beside who made it.");
        var ifRevision = new Option<long?>("--if-revision")
        {
            Description = "Apply the change only while the scenarios the file names (with --prune, all the cluster's) are as they were at this revision "
                + "(as a dry run or export-scenarios reported it); if one was changed since, change nothing and fail (HTTP If-Match).",
        };
        var api = ApiConnection.AddressOption();
        var apiKey = ApiConnection.KeyOption("An admin API key (Recommender:ApiKeys:Admin)");
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for each answer.", DefaultValueFactory = _ => 100 };
        var attempts = new Option<int>("--attempts") { Description = "Attempts a request, 1 to 100, while the cluster answers 429 or 503 or not at all.", DefaultValueFactory = _ => 5 };
        var command = new Command("apply-scenarios", "Make the cluster's scenarios what a JSON file says, in one change that the cluster checks whole (PATCH /scenarios); with --prune, delete those it does not name (PUT /scenarios).")
        {
            file, prune, dryRun, ifRevision, note, api, apiKey, timeout, attempts,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            List<(string Name, string Body)> scenarios = [];
            var (connection, refused) = ApiConnection.OpenChecked(parse, () =>
            {
                if (parse.GetValue(attempts) is < 1 or > 100) throw new ArgumentException($"--attempts {parse.GetValue(attempts)} must be between 1 and 100.");
                if (parse.GetValue(ifRevision) is < 0) throw new ArgumentException($"--if-revision {parse.GetValue(ifRevision)} must be 0 or more (a revision the cluster reported).");
                scenarios = Read(parse.GetValue(file)!);
            }, parse.GetValue(api), parse.GetValue(apiKey), parse.GetValue(timeout));
            if (connection is null) return refused;
            using var http = connection;
            var tries = parse.GetValue(attempts);
            try
            {
                var body = new JsonObject();
                foreach (var (name, rules) in scenarios) body[name] = JsonNode.Parse(rules);
                var dry = parse.GetValue(dryRun);
                var method = parse.GetValue(prune) ? HttpMethod.Put : HttpMethod.Patch;
                var endpoint = dry ? "scenarios?dryRun=true" : "scenarios" + NoteQuery(parse.GetValue(note), first: true);
                var content = body.ToJsonString();
                var expected = parse.GetValue(ifRevision);
                HttpRequestMessage Request(string path, long? revision)
                {
                    var request = new HttpRequestMessage(method, path) { Content = new StringContent(content, Encoding.UTF8, "application/json") };
                    IfMatch(request, revision);
                    return request;
                }
                // The whole file is one change that leaves the cluster the same however often it comes: one whose answer was lost is sent again.
                using var response = await http.SendAsync(() => Request(endpoint, expected), tries, retryLost: true, error, HttpCompletionOption.ResponseContentRead, cancellation);
                var text = await response.Content.ReadAsStringAsync(cancellation);
                // A repeat of a request whose answer was lost (by this command, or by HttpClient itself on a reused
                // connection) is refused when the lost attempt made the change: the set one revision on, as the file says.
                if (response.StatusCode == HttpStatusCode.PreconditionFailed && !dry && Revision(text) == expected + 1
                    && await MadeAlreadyAsync(http, () => Request("scenarios?dryRun=true", null), tries, error, cancellation))
                {
                    await output.WriteLineAsync($"the scenarios are now at revision {expected + 1} and already as the file says: the change was made one " +
                        "revision after the one given (by an attempt of this command whose answer was lost)");
                    return 0;
                }
                if (!response.IsSuccessStatusCode)
                {
                    await ApiProblem.ReportAsync(http, endpoint, response.StatusCode, text, error, "Applying scenarios");
                    if (response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Conflict)
                        await error.WriteLineAsync("No scenario was changed. Mend the file and run the command again.");
                    if (response.StatusCode is HttpStatusCode.PreconditionFailed)
                        await error.WriteLineAsync($"{(parse.GetValue(prune) ? "The cluster's scenarios were" : "A scenario the file names was")} changed since revision {expected}, " +
                            "and the file was not applied over that change. " +
                            "Run the command with --dry-run to review it against them as they are now (scenario-history shows the changes).");
                    return 1;
                }
                var applied = http.ReadAnswer<Applied>(endpoint, response.StatusCode, text);
                await ReportAsync(output, applied, unchanged: true);
                await output.WriteLineAsync(dry
                    ? $"the scenarios are at revision {applied.Revision}; --if-revision {applied.Revision} applies this change only while they still are"
                    : $"the scenarios are now at revision {applied.Revision}");
                return 0;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellation.IsCancellationRequested)
            {
                await error.WriteLineAsync($"error: {http.NoAnswer(e)}; " +
                    "run the command again: applying the same file twice changes nothing more.");
                return 1;
            }
            catch (InvalidDataException e) when (!cancellation.IsCancellationRequested)
            {
                await error.WriteLineAsync($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>The file's scenarios in its order, each name with its rules as the body to put; the rules themselves are the cluster's to check.</summary>
    /// <exception cref="InvalidDataException">The file is not a JSON object of objects.</exception>
    internal static List<(string Name, string Body)> Read(FileInfo file)
    {
        JsonNode? root;
        try
        {
            using var stream = file.OpenRead();
            root = JsonNode.Parse(stream, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file.FullName} is not valid JSON{(e.LineNumber is { } line ? $" (line {line + 1})" : "")}: {e.Message}");
        }
        if (root is not JsonObject scenarios)
            throw new InvalidDataException($"{file.FullName} must hold one JSON object, each scenario's name to its rules: {{\"home\": {{\"boost\": [\"sale:2\"]}}}}.");
        var read = new List<(string, string)>();
        foreach (var (name, rules) in scenarios)
        {
            if (rules is not JsonObject)
                throw new InvalidDataException($"{file.FullName}: scenario '{name}' must be an object of rules, such as {{\"cap\": [\"sponsored:2\"]}}.");
            read.Add((name, rules.ToJsonString()));
        }
        return read;
    }

    /// <summary>The rules a scenario's change sets, each as the cluster describes it; the order the lines are printed in.</summary>
    private static readonly string[] RuleFields = ["tag", "excludeTag", "exclude", "boost", "fresh", "maxAge", "cap", "capEach", "pin", "slot", "diversity", "k", "includeSeen", "activeFrom", "activeUntil"];

    /// <summary>A line per rule the change sets otherwise, "  FIELD: BEFORE -> AFTER" ("-" for none), so that a dry run can be reviewed.</summary>
    internal static IEnumerable<string> Differences(Change change)
    {
        foreach (var field in RuleFields)
        {
            var (before, after) = (Show(change.Before?[field]), Show(change.After?[field]));
            if (before != after) yield return change.Before is null ? $"  {field}: {after}" : $"  {field}: {before} -> {after}";
        }
    }

    private static string Show(JsonNode? value) => value switch
    {
        null or JsonArray { Count: 0 } => "-",
        JsonArray list => $"[{string.Join(", ", list.Select(v => v?.ToString()))}]",
        _ => value.ToJsonString(),
    };

    internal sealed record Change(string Name, JsonObject? Before, JsonObject? After);

    internal sealed record Applied(bool DryRun, long Revision, string[] Put, string[] Unchanged, string[] Deleted, Change[]? Changes);

    /// <summary>A line per scenario a change put ("put NAME", with its rules' differences under it), left (with <paramref name="unchanged"/>) or deleted; "would …" for a dry run.</summary>
    internal static async Task ReportAsync(TextWriter output, Applied applied, bool unchanged)
    {
        var (put, delete) = applied.DryRun ? ("would put", "would delete") : ("put", "deleted");
        var changes = (applied.Changes ?? []).ToDictionary(c => c.Name, StringComparer.Ordinal);
        foreach (var name in applied.Put)
        {
            var change = changes.GetValueOrDefault(name);
            await output.WriteLineAsync($"{put} {name}{(change is { Before: null } ? " (new)" : "")}");
            if (change is not null) foreach (var line in Differences(change)) await output.WriteLineAsync(line);
        }
        if (unchanged) foreach (var name in applied.Unchanged) await output.WriteLineAsync($"unchanged {name}");
        foreach (var name in applied.Deleted) await output.WriteLineAsync($"{delete} {name}");
    }

    /// <summary>The --note option of the commands that change scenarios.</summary>
    internal static Option<string?> NoteOption(string description) => new("--note") { Description = description };

    /// <summary>The note= parameter for <paramref name="note"/> (nothing without one), after "?" when <paramref name="first"/>, else after "&amp;".</summary>
    internal static string NoteQuery(string? note, bool first) =>
        string.IsNullOrWhiteSpace(note) ? "" : $"{(first ? '?' : '&')}note={Uri.EscapeDataString(note)}";

    /// <summary>The "revision" an answer of the scenarios' endpoints gives; null if it gives none.</summary>
    internal static long? RevisionOf(JsonNode? answer) =>
        answer?["revision"] is JsonValue value && value.TryGetValue<long>(out var revision) ? revision : null;

    /// <summary>Makes <paramref name="request"/> conditional on the scenarios being at <paramref name="revision"/> (If-Match), when one is given.</summary>
    internal static void IfMatch(HttpRequestMessage request, long? revision)
    {
        if (revision is { } r) request.Headers.IfMatch.Add(new System.Net.Http.Headers.EntityTagHeaderValue($"\"{r}\""));
    }

    /// <summary>The revision a 412's problem document gives (the scenarios' revision when it was refused); null if it gives none.</summary>
    internal static long? Revision(string problem)
    {
        try
        {
            return RevisionOf(JsonNode.Parse(problem));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether the file's change is already what the cluster holds (a dry run of it, without a condition, would put and
    /// delete nothing): after a lost answer and a refused repeat, the sign that the lost attempt made the change.
    /// </summary>
    internal static async Task<bool> MadeAlreadyAsync(ApiConnection http, Func<HttpRequestMessage> dryRun, int attempts, TextWriter error, CancellationToken cancellation)
    {
        using var response = await http.SendAsync(dryRun, attempts, retryLost: true, error, HttpCompletionOption.ResponseContentRead, cancellation);
        if (!response.IsSuccessStatusCode) return false;
        var applied = http.ReadAnswer<Applied>("scenarios?dryRun=true", response.StatusCode, await response.Content.ReadAsStringAsync(cancellation));
        return applied is { Put: [], Deleted: [] };
    }
}

using System.CommandLine;
using System.Globalization;
using System.Net;

namespace Recommender.Cli;

/// <summary>
/// recommender scenario-history: the cluster's recent changes of scenarios (GET /scenario-history), newest first, each
/// scenario a change put or deleted with its rules' differences; with --restore, the scenarios made what they were at
/// a revision (POST /scenario-history/{revision}/restore), so that a mistaken change is undone in one step.
/// </summary>
internal static class ScenarioHistoryCommand
{
    public static Command Create()
    {
        var limit = new Option<int>("--limit") { Description = "How many changes to show, newest first (1 to 50).", DefaultValueFactory = _ => 20 };
        var name = new Option<string?>("--name") { Description = "Show only the changes of the scenario of this name." };
        var restore = new Option<long?>("--restore") { Description = "Make the scenarios what they were at this revision, in one change (which the history then keeps too)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "With --restore: say what would be put and deleted, and change nothing." };
        var note = ApplyScenariosCommand.NoteOption("With --restore: why, in a line, kept with the restore in the history.");
        var ifRevision = new Option<long?>("--if-revision")
        {
            Description = "With --restore: restore only while the scenarios are at this revision (as a dry run reported it); otherwise change nothing and fail.",
        };
        var api = ApiConnection.AddressOption();
        var apiKey = ApiConnection.KeyOption("An admin API key (Recommender:ApiKeys:Admin)");
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for each answer.", DefaultValueFactory = _ => 100 };
        var attempts = new Option<int>("--attempts") { Description = "Attempts a request, 1 to 100, while the cluster answers 429 or 503 or not at all.", DefaultValueFactory = _ => 5 };
        var command = new Command("scenario-history", "Show the cluster's recent changes of scenarios, newest first, rule by rule; with --restore, make the scenarios what they were at a revision.")
        {
            limit, name, restore, dryRun, ifRevision, note, api, apiKey, timeout, attempts,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var (connection, refused) = ApiConnection.OpenChecked(parse, () =>
            {
                if (parse.GetValue(attempts) is < 1 or > 100) throw new ArgumentException($"--attempts {parse.GetValue(attempts)} must be between 1 and 100.");
                if (parse.GetValue(limit) is < 1 or > 50) throw new ArgumentException($"--limit {parse.GetValue(limit)} must be between 1 and 50 (the changes the cluster keeps).");
                if (parse.GetValue(restore) is < 0) throw new ArgumentException($"--restore {parse.GetValue(restore)} must be 0 or more (a revision the history lists).");
                if (parse.GetValue(restore) is not null && parse.GetValue(name) is not null)
                    throw new ArgumentException("--name chooses the changes to show; --restore restores every scenario as it was at the revision, so they do not go together.");
                if (parse.GetValue(restore) is null && (parse.GetValue(dryRun) || parse.GetValue(ifRevision) is not null || parse.GetValue(note) is not null))
                    throw new ArgumentException("--dry-run, --if-revision and --note go with --restore.");
                if (parse.GetValue(ifRevision) is < 0) throw new ArgumentException($"--if-revision {parse.GetValue(ifRevision)} must be 0 or more (a revision the cluster reported).");
            }, parse.GetValue(api), parse.GetValue(apiKey), parse.GetValue(timeout));
            if (connection is null) return refused;
            using var http = connection;
            var tries = parse.GetValue(attempts);
            try
            {
                if (parse.GetValue(restore) is { } revision)
                    return await RestoreAsync(http, revision, parse.GetValue(dryRun), parse.GetValue(ifRevision), parse.GetValue(note), tries, output, error, cancellation);
                var history = await http.ReadAsync<History>($"scenario-history?limit={parse.GetValue(limit)}" + (parse.GetValue(name) is { } only ? $"&name={Uri.EscapeDataString(only)}" : ""), tries, error, "Reading the scenarios' history", cancellation);
                if (history is null) return 1;
                foreach (var change in history.Changes)
                {
                    var by = change.By is null ? "" : $"  by {change.By}";
                    await output.WriteLineAsync($"revision {change.Revision}  {change.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)}{by}"
                        + (change.Note is null ? "" : $": {change.Note}"));
                    foreach (var edit in change.Changes)
                    {
                        await output.WriteLineAsync(edit switch
                        {
                            { Before: null } => $"  put {edit.Name} (new)",
                            { After: null } => $"  deleted {edit.Name}",
                            _ => $"  put {edit.Name}",
                        });
                        if (edit.After is not null)
                            foreach (var line in ApplyScenariosCommand.Differences(edit)) await output.WriteLineAsync("  " + line);
                    }
                }
                await output.WriteLineAsync($"the scenarios are at revision {history.Revision}; the history reaches back to revision {history.Oldest} (--restore REVISION goes back to one)");
                return 0;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellation.IsCancellationRequested)
            {
                await error.WriteLineAsync($"error: {http.NoAnswer(e)}; run the command again: " +
                    (parse.GetValue(restore) is null ? "it only reads." : "restoring the same revision again changes nothing more."));
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

    private static async Task<int> RestoreAsync(ApiConnection http, long revision, bool dry, long? ifRevision, string? note, int attempts, TextWriter output,
        TextWriter error, CancellationToken cancellation)
    {
        var endpoint = $"scenario-history/{revision}/restore{(dry ? "?dryRun=true" : ApplyScenariosCommand.NoteQuery(note, first: true))}";
        HttpRequestMessage Request(string path, long? condition)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, path);
            ApplyScenariosCommand.IfMatch(request, condition);
            return request;
        }
        // Restoring a revision leaves the scenarios the same however often it is sent: one whose answer was lost is sent again.
        using var response = await http.SendAsync(() => Request(endpoint, ifRevision), attempts, retryLost: true, error, HttpCompletionOption.ResponseContentRead, cancellation);
        var text = await response.Content.ReadAsStringAsync(cancellation);
        // As apply-scenarios: a refused repeat after a lost answer, when the lost attempt made the restore.
        if (response.StatusCode == HttpStatusCode.PreconditionFailed && !dry && ApplyScenariosCommand.Revision(text) == ifRevision + 1
            && await ApplyScenariosCommand.MadeAlreadyAsync(http, () => Request($"scenario-history/{revision}/restore?dryRun=true", null), attempts, error, cancellation))
        {
            await output.WriteLineAsync($"restored revision {revision}: the scenarios are now at revision {ifRevision + 1} and already as they were then " +
                "(by an attempt of this command whose answer was lost)");
            return 0;
        }
        if (!response.IsSuccessStatusCode)
        {
            await ApiProblem.ReportAsync(http, endpoint, response.StatusCode, text, error, "Restoring scenarios");
            if (response.StatusCode is HttpStatusCode.NotFound) await error.WriteLineAsync("No scenario was changed.");
            else if (response.StatusCode is HttpStatusCode.PreconditionFailed)
                await error.WriteLineAsync($"The cluster's scenarios were changed since revision {ifRevision}, and revision {revision} was not restored over that change: " +
                    "scenario-history shows what happened.");
            return 1;
        }
        var applied = http.ReadAnswer<ApplyScenariosCommand.Applied>(endpoint, response.StatusCode, text);
        await ApplyScenariosCommand.ReportAsync(output, applied, unchanged: false);
        await output.WriteLineAsync(dry
            ? $"the scenarios are at revision {applied.Revision}; --if-revision {applied.Revision} restores revision {revision} only while they still are"
            : $"restored revision {revision}: the scenarios are now at revision {applied.Revision}");
        return 0;
    }

    private sealed record History(long Revision, long Oldest, HistoryEntry[] Changes);

    private sealed record HistoryEntry(long Revision, DateTimeOffset At, string? By, string? Note, ApplyScenariosCommand.Change[] Changes);
}

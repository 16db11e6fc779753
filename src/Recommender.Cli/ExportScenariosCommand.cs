using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Recommender.Cli;

/// <summary>
/// recommender export-scenarios: writes the cluster's scenarios (GET /scenarios) as the file apply-scenarios reads, each
/// name to its rules in the forms PUT /scenarios/{name} takes, by name, rules it does not set left out; so that rules made
/// through the API can be put under version control, and a file exported and applied again changes nothing.
/// </summary>
internal static class ExportScenariosCommand
{
    public static Command Create()
    {
        var outFile = new Option<string>("--out") { Description = "JSON file to write: {\"home\": {\"boost\": [\"sale:2\"]}, ...}, as apply-scenarios reads it.", Required = true };
        var atRevision = new Option<long?>("--revision")
        {
            Description = "Write the scenarios as they were at this revision (one the scenarios' history reaches: scenario-history lists them) instead of as they are.",
        };
        var api = ApiConnection.AddressOption();
        var apiKey = ApiConnection.KeyOption("An admin API key (Recommender:ApiKeys:Admin)");
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the answer.", DefaultValueFactory = _ => 100 };
        var attempts = new Option<int>("--attempts") { Description = "Attempts, 1 to 100, while the cluster answers 429 or 503 or not at all.", DefaultValueFactory = _ => 5 };
        var command = new Command("export-scenarios", "Write the cluster's scenarios (GET /scenarios) as the JSON file apply-scenarios reads.")
        {
            outFile, atRevision, api, apiKey, timeout, attempts,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var error = parse.InvocationConfiguration.Error;
            var (connection, refused) = ApiConnection.OpenChecked(parse, () =>
            {
                if (parse.GetValue(attempts) is < 1 or > 100) throw new ArgumentException($"--attempts {parse.GetValue(attempts)} must be between 1 and 100.");
                CommandErrors.CheckFileTarget(parse.GetValue(outFile)!, "--out");
                if (parse.GetValue(atRevision) is < 0) throw new ArgumentException($"--revision {parse.GetValue(atRevision)} must be 0 or more (a revision scenario-history lists).");
            }, parse.GetValue(api), parse.GetValue(apiKey), parse.GetValue(timeout));
            if (connection is null) return refused;
            using var http = connection;
            var path = Path.GetFullPath(parse.GetValue(outFile)!);
            var partial = path + ".partial";
            try
            {
                var endpoint = parse.GetValue(atRevision) is { } at ? $"scenario-history/{at}" : "scenarios";
                var listed = await http.ReadAsync<JsonObject>(endpoint, parse.GetValue(attempts), error, "Exporting scenarios", cancellation);
                if (listed is null) return 1;
                var file = Rules(listed);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await File.WriteAllTextAsync(partial, file.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n", cancellation);
                // Only a whole file replaces the target.
                File.Move(partial, path, overwrite: true);
                var revision = ApplyScenariosCommand.RevisionOf(listed);
                await parse.InvocationConfiguration.Output.WriteLineAsync($"wrote {file.Count} scenarios to {path}" + (revision, parse.GetValue(atRevision)) switch
                {
                    ({ } r, null) => $" at revision {r} (apply-scenarios --if-revision {r} applies an edit of the file only while the cluster's scenarios are still those)",
                    ({ } r, _) => $" as they were at revision {r} (apply-scenarios --prune with the file makes them so again)",
                    _ => "",
                });
                return 0;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellation.IsCancellationRequested)
            {
                await error.WriteLineAsync($"error: {http.NoAnswer(e)}; run the command again: it only reads.");
                return 1;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                await error.WriteLineAsync($"error: exporting scenarios to {path} failed: {e.Message}");
                return 1;
            }
            finally
            {
                if (File.Exists(partial)) File.Delete(partial);
            }
        });
        return command;
    }

    /// <summary>Fields of a scenario as GET /scenarios gives it that are not rules.</summary>
    private static readonly string[] NotRules = ["name", "updatedAt", "active", "revision"];

    /// <summary>The answer of GET /scenarios as apply-scenarios' file: each name to the rules it sets (empty lists and nulls left out).</summary>
    /// <exception cref="InvalidDataException">The answer is not a list of named scenarios.</exception>
    internal static JsonObject Rules(JsonObject listed)
    {
        if (listed["scenarios"] is not JsonArray scenarios) throw new InvalidDataException("the cluster's answer to GET /scenarios holds no list of scenarios.");
        var file = new JsonObject();
        foreach (var scenario in scenarios.OfType<JsonObject>().OrderBy(s => (string?)s["name"], StringComparer.Ordinal))
        {
            var name = (string?)scenario["name"] ?? throw new InvalidDataException("the cluster's answer to GET /scenarios holds a scenario without a name.");
            var rules = new JsonObject();
            foreach (var (field, value) in scenario)
                if (!NotRules.Contains(field) && value is not null && value is not JsonArray { Count: 0 }) rules[field] = value.DeepClone();
            file[name] = rules;
        }
        return file;
    }
}

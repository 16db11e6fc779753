using System.CommandLine;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Recommender.Cli;

/// <summary>
/// recommender apply-scenarios: makes the cluster's scenarios (named list rules) what a file says, so that they can be
/// kept under version control and reviewed like code. The file is one JSON object, each scenario's name to the body
/// PUT /scenarios/{name} takes; each is put in turn, and with --prune the cluster's scenarios the file does not name
/// are deleted. Putting a scenario again stores the same rules, so a run stopped part-way is completed by running it again.
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
        var dryRun = new Option<bool>("--dry-run") { Description = "Say what would be put and deleted, and change nothing." };
        var api = ApiConnection.AddressOption();
        var apiKey = ApiConnection.KeyOption("An admin API key (Recommender:ApiKeys:Admin)");
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for each answer.", DefaultValueFactory = _ => 100 };
        var attempts = new Option<int>("--attempts") { Description = "Attempts a request, 1 to 100, while the cluster answers 429 or 503 or not at all.", DefaultValueFactory = _ => 5 };
        var command = new Command("apply-scenarios", "Make the cluster's scenarios (PUT /scenarios/{name}) what a JSON file says; with --prune, delete those it does not name.")
        {
            file, prune, dryRun, api, apiKey, timeout, attempts,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            List<(string Name, string Body)> scenarios = [];
            var (connection, refused) = ApiConnection.OpenChecked(parse, () =>
            {
                if (parse.GetValue(attempts) is < 1 or > 100) throw new ArgumentException($"--attempts {parse.GetValue(attempts)} must be between 1 and 100.");
                scenarios = Read(parse.GetValue(file)!);
            }, parse.GetValue(api), parse.GetValue(apiKey), parse.GetValue(timeout));
            if (connection is null) return refused;
            using var http = connection;
            var tries = parse.GetValue(attempts);
            try
            {
                var stale = new List<string>();
                if (parse.GetValue(prune))
                {
                    var listed = await http.ReadAsync<Listed>("scenarios", tries, error, "Applying scenarios", cancellation);
                    if (listed is null) return 1;
                    stale = [.. listed.Scenarios.Select(s => s.Name).Where(name => scenarios.All(s => s.Name != name)).Order(StringComparer.Ordinal)];
                }
                if (parse.GetValue(dryRun))
                {
                    foreach (var (name, _) in scenarios) await output.WriteLineAsync($"would put {name}");
                    foreach (var name in stale) await output.WriteLineAsync($"would delete {name}");
                    return 0;
                }
                foreach (var (name, body) in scenarios)
                {
                    var endpoint = $"scenarios/{Uri.EscapeDataString(name)}";
                    // A PUT stores the same rules however often it comes, so one whose answer was lost is sent again.
                    using var response = await http.SendAsync(() => new HttpRequestMessage(HttpMethod.Put, endpoint) { Content = new StringContent(body, Encoding.UTF8, "application/json") },
                        tries, retryLost: true, error, HttpCompletionOption.ResponseContentRead, cancellation);
                    var text = await response.Content.ReadAsStringAsync(cancellation);
                    if (!response.IsSuccessStatusCode)
                    {
                        await ApiProblem.ReportAsync(http, endpoint, response.StatusCode, text, error, "Applying scenarios");
                        await error.WriteLineAsync($"scenario '{name}' was not put; those before it in the file were. Mend the file and run the command again.");
                        return 1;
                    }
                    await output.WriteLineAsync($"put {name}");
                }
                foreach (var name in stale)
                {
                    var endpoint = $"scenarios/{Uri.EscapeDataString(name)}";
                    using var response = await http.SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, endpoint), tries, retryLost: true, error,
                        HttpCompletionOption.ResponseContentRead, cancellation);
                    var text = await response.Content.ReadAsStringAsync(cancellation);
                    if (!response.IsSuccessStatusCode)
                    {
                        await ApiProblem.ReportAsync(http, endpoint, response.StatusCode, text, error, "Applying scenarios");
                        return 1;
                    }
                    await output.WriteLineAsync($"deleted {name}");
                }
                return 0;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellation.IsCancellationRequested)
            {
                await error.WriteLineAsync($"error: {http.NoAnswer(e)}; " +
                    "run the command again: putting a scenario twice stores the same rules.");
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

    private sealed record Named(string Name);

    private sealed record Listed(List<Named> Scenarios);
}

using System.CommandLine;
using Recommender.Model.Data;

namespace Recommender.Cli;

/// <summary>
/// recommender export-events: downloads the cluster's whole event history (GET /events/export) into a CSV that
/// `recommender train --format event-export` reads.
/// </summary>
internal static class ExportEventsCommand
{
    public const string ApiKeyVariable = ApiConnection.ApiKeyVariable;

    public static Command Create()
    {
        var api = ApiConnection.AddressOption();
        var outFile = new Option<string>("--out") { Description = "CSV file to write (event-export format).", Required = true };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the whole download.", DefaultValueFactory = _ => 600 };
        var apiKey = ApiConnection.KeyOption("An admin API key (Recommender:ApiKeys:Admin)");

        var command = new Command("export-events", "Download the cluster's event history as an event-export CSV for training.") { api, outFile, timeout, apiKey };
        command.SetAction(async (parse, cancellation) =>
        {
            var error = parse.InvocationConfiguration.Error;
            var output = parse.InvocationConfiguration.Output;
            ApiConnection? connection = null;
            if (CommandErrors.Guard(parse, () =>
                {
                    connection = ApiConnection.Open(parse.GetValue(api), parse.GetValue(apiKey), parse.GetValue(timeout));
                    CommandErrors.CheckFileTarget(parse.GetValue(outFile)!, "--out");
                    return 0;
                }) is not 0 and var refused)
            {
                connection?.Dispose();
                return refused;
            }
            using var http = connection!;
            var baseAddress = http.BaseAddress;
            var path = Path.GetFullPath(parse.GetValue(outFile)!);
            var partial = path + ".partial";
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                // The export only reads, so repeating it is safe.
                using var response = await http.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, "events/export"), Attempts, retryLost: false, error,
                    HttpCompletionOption.ResponseHeadersRead, cancellation);
                if (!response.IsSuccessStatusCode)
                {
                    await error.WriteLineAsync($"error: {baseAddress}events/export answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellation)}");
                    return 1;
                }
                long lines = 0;
                await using (var body = await response.Content.ReadAsStreamAsync(cancellation))
                using (var reader = new StreamReader(body))
                await using (var writer = new StreamWriter(partial))
                {
                    var header = await reader.ReadLineAsync(cancellation);
                    if (header is not (EventExportFormat.Header or EventExportFormat.HeaderWithoutValue))
                    {
                        await error.WriteLineAsync($"error: the export does not start with the header '{EventExportFormat.Header}'.");
                        return 1;
                    }
                    await writer.WriteLineAsync(header);
                    while (await reader.ReadLineAsync(cancellation) is { } line)
                    {
                        await writer.WriteLineAsync(line);
                        lines++;
                    }
                }
                // Only a complete download replaces the target file.
                File.Move(partial, path, overwrite: true);
                await output.WriteLineAsync($"wrote {lines} events to {path}");
                return 0;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"error: exporting from {baseAddress} failed: {e.Message}");
                return 1;
            }
            finally
            {
                if (File.Exists(partial)) File.Delete(partial);
            }
        });
        return command;
    }

    /// <summary>Attempts in all when the API answers 429 (its rate limit) or 503 (unavailable for now).</summary>
    public const int Attempts = 3;
}

using System.CommandLine;
using Recommender.Model.Data;

namespace Recommender.Cli;

/// <summary>
/// recommender export-events: downloads the cluster's whole event history (GET /events/export) into a CSV that
/// `recommender train --format event-export` reads.
/// </summary>
internal static class ExportEventsCommand
{
    public const string ApiKeyVariable = "RECOMMENDER_API_KEY";
    private const int MaxTimeoutSeconds = int.MaxValue / 1000;

    public static Command Create()
    {
        var api = new Option<string>("--api") { Description = "Base address of the recommender HTTP API.", DefaultValueFactory = _ => "http://127.0.0.1:5000" };
        var outFile = new Option<string>("--out") { Description = "CSV file to write (event-export format).", Required = true };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the whole download.", DefaultValueFactory = _ => 600 };
        var apiKey = new Option<string?>("--api-key")
        {
            Description = $"An admin API key of the cluster (Recommender:ApiKeys:Admin), when it has keys. Default: the {ApiKeyVariable} environment variable, which keeps the key out of the process list.",
        };

        var command = new Command("export-events", "Download the cluster's event history as an event-export CSV for training.") { api, outFile, timeout, apiKey };
        command.SetAction(async (parse, cancellation) =>
        {
            var error = parse.InvocationConfiguration.Error;
            var output = parse.InvocationConfiguration.Output;
            if (!Uri.TryCreate(parse.GetValue(api), UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
            {
                await error.WriteLineAsync($"error: --api '{parse.GetValue(api)}' is not an http(s) address.");
                return 1;
            }
            // HttpClient takes at most int.MaxValue milliseconds (about 24.8 days).
            if (parse.GetValue(timeout) is <= 0 or > MaxTimeoutSeconds)
            {
                await error.WriteLineAsync($"error: --timeout {parse.GetValue(timeout)} must be a number of seconds from 1 to {MaxTimeoutSeconds:N0}.");
                return 1;
            }
            var key = (parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable(ApiKeyVariable))?.Trim();
            if (key is { Length: > 0 } && key.Any(c => c is <= ' ' or > '~'))
            {
                await error.WriteLineAsync("error: the API key holds a character other than printable ASCII; keys are sent in an HTTP header.");
                return 1;
            }
            // Relative paths resolve against the last '/' of the base: "http://host/prefix" must become "http://host/prefix/".
            if (!baseAddress.AbsolutePath.EndsWith('/')) baseAddress = new Uri(baseAddress.GetLeftPart(UriPartial.Path) + "/");
            if (CommandErrors.Guard(parse, () => { CommandErrors.CheckFileTarget(parse.GetValue(outFile)!, "--out"); return 0; }) is not 0 and var refused)
                return refused;
            var path = Path.GetFullPath(parse.GetValue(outFile)!);
            var partial = path + ".partial";
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)) };
                if (key is { Length: > 0 }) http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
                using var response = await GetRetryingAsync(http, error, cancellation);
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

    /// <summary>The longest wait a Retry-After may ask for before the command gives up instead.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    /// <summary>
    /// GET events/export; an answer of 429 or 503 is asked again after its Retry-After (1 s without one), up to
    /// <see cref="Attempts"/> in all: the export only reads, so repeating it is safe. The last answer is returned.
    /// </summary>
    private static async Task<HttpResponseMessage> GetRetryingAsync(HttpClient http, TextWriter error, CancellationToken cancellation)
    {
        for (var attempt = 1; ; attempt++)
        {
            var response = await http.GetAsync("events/export", HttpCompletionOption.ResponseHeadersRead, cancellation);
            if (response.StatusCode is not (System.Net.HttpStatusCode.TooManyRequests or System.Net.HttpStatusCode.ServiceUnavailable) || attempt == Attempts)
                return response;
            var wait = response.Headers.RetryAfter?.Delta ?? (response.Headers.RetryAfter?.Date - DateTimeOffset.UtcNow) ?? TimeSpan.FromSeconds(1);
            if (wait > MaxRetryAfter) return response;
            if (wait < TimeSpan.Zero) wait = TimeSpan.Zero;
            await error.WriteLineAsync($"the API answered {(int)response.StatusCode}; asking again in {wait.TotalSeconds:0.#} s (attempt {attempt + 1} of {Attempts})");
            response.Dispose();
            await Task.Delay(wait, cancellation);
        }
    }
}

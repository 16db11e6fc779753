using System.CommandLine;

namespace Recommender.Cli;

/// <summary>
/// The export commands (export-events, export-items): one GET of the API streamed into a file, which appears only once
/// the download is whole; an answer of 429 or 503 is asked again (an export only reads).
/// </summary>
internal static class DownloadCommand
{
    /// <summary>Attempts in all when the API answers 429 (its rate limit) or 503 (unavailable for now).</summary>
    public const int Attempts = 3;

    /// <param name="firstLine">Checks the first line (a header): an error message, or null when it is right.</param>
    /// <param name="countsFirstLine">Whether the first line is a record too (JSON lines), or a header (CSV).</param>
    public static Command Create(string name, string description, string endpoint, string outDescription, string noun,
        Func<string?, string?> firstLine, bool countsFirstLine)
    {
        var api = ApiConnection.AddressOption();
        var outFile = new Option<string>("--out") { Description = outDescription, Required = true };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the whole download.", DefaultValueFactory = _ => 600 };
        var apiKey = ApiConnection.KeyOption("An admin API key (Recommender:ApiKeys:Admin)");
        var command = new Command(name, description) { api, outFile, timeout, apiKey };
        command.SetAction(async (parse, cancellation) =>
        {
            var error = parse.InvocationConfiguration.Error;
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
            var path = Path.GetFullPath(parse.GetValue(outFile)!);
            var partial = path + ".partial";
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                using var response = await http.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, endpoint), Attempts, retryLost: false, error,
                    HttpCompletionOption.ResponseHeadersRead, cancellation);
                if (!response.IsSuccessStatusCode)
                {
                    await error.WriteLineAsync($"error: {http.BaseAddress}{endpoint} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellation)}");
                    return 1;
                }
                long lines = 0;
                await using (var body = await response.Content.ReadAsStreamAsync(cancellation))
                using (var reader = new StreamReader(body))
                await using (var writer = new StreamWriter(partial))
                {
                    var first = await reader.ReadLineAsync(cancellation);
                    if (firstLine(first) is { } wrong)
                    {
                        await error.WriteLineAsync($"error: {wrong}");
                        return 1;
                    }
                    if (first is not null)
                    {
                        await writer.WriteLineAsync(first);
                        if (countsFirstLine) lines++;
                    }
                    while (await reader.ReadLineAsync(cancellation) is { } line)
                    {
                        await writer.WriteLineAsync(line);
                        lines++;
                    }
                }
                // Only a complete download replaces the target file.
                File.Move(partial, path, overwrite: true);
                await parse.InvocationConfiguration.Output.WriteLineAsync($"wrote {lines} {noun} to {path}");
                return 0;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"error: exporting from {http.BaseAddress} failed: {e.Message}");
                return 1;
            }
            finally
            {
                if (File.Exists(partial)) File.Delete(partial);
            }
        });
        return command;
    }
}

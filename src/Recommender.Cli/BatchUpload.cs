using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Spectre.Console;

namespace Recommender.Cli;

/// <summary>One object of an import file, as JSON, with the line it comes from.</summary>
internal readonly record struct UploadRow(int Line, string Json);

/// <summary>
/// Sends a file's objects to a batch endpoint of the API (POST /events, POST /items, POST /items/delete, PATCH /items) in
/// batches the API takes (a count and the 1 MiB body limit), one after the other, each asked again while the cluster
/// answers 429 or 503 or does not answer: each endpoint stores a repeated object once (events by their ids, items by
/// replacing or changing them as before, deletions of what is gone already answering false), so a repeat is safe.
/// A batch the API refuses stops the upload with its problems named by file line; the batches before it are stored.
/// </summary>
internal sealed partial class BatchUpload(ApiConnection api, string endpoint, string file, int batchSize, int attempts, HttpMethod method)
{
    /// <summary>Below the API's 1 MiB body limit, with room for the array's brackets and commas.</summary>
    public const int MaxBatchBytes = 1_000_000;

    /// <summary>Sends <paramref name="rows"/> (<paramref name="total"/> of them); <paramref name="stored"/> reads each answer. Returns the exit code.</summary>
    public async Task<int> RunAsync(IAnsiConsole console, TextWriter output, TextWriter error, IEnumerable<UploadRow> rows, int total, string noun,
        Action<JsonElement> stored, CancellationToken cancellation)
    {
        var sent = 0;
        var watch = Stopwatch.StartNew();
        var exit = 0;
        await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(noun, maxValue: Math.Max(total, 1));
                foreach (var batch in Batches(rows))
                {
                    var body = "[" + string.Join(",", batch.Select(r => r.Json)) + "]";
                    HttpResponseMessage response;
                    try
                    {
                        response = await api.SendAsync(() => new HttpRequestMessage(method, endpoint)
                        {
                            Content = new StringContent(body, Encoding.UTF8, "application/json"),
                        }, attempts, retryLost: true, error, HttpCompletionOption.ResponseContentRead, cancellation);
                    }
                    catch (Exception e) when (!cancellation.IsCancellationRequested && e is HttpRequestException or TaskCanceledException)
                    {
                        var why = e is TaskCanceledException ? $"no answer within {api.Http.Timeout.TotalSeconds:0} s" : e.Message;
                        await error.WriteLineAsync($"error: sending the {noun} of lines {batch[0].Line}-{batch[^1].Line} to {api.BaseAddress}{endpoint} failed {attempts} times: {why}.");
                        await error.WriteLineAsync(StoredBefore(sent, batch, noun, mayBeStored: true));
                        exit = 1;
                        return;
                    }
                    using var answered = response;
                    var text = await response.Content.ReadAsStringAsync(cancellation);
                    if (!response.IsSuccessStatusCode)
                    {
                        await Refused(error, response.StatusCode, text, batch, sent, noun);
                        exit = 1;
                        return;
                    }
                    try
                    {
                        using var answer = JsonDocument.Parse(text);
                        stored(answer.RootElement);
                    }
                    catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
                    {
                        // Not the API's answer (a proxy's page, another service on the address): what was stored cannot be told.
                        await error.WriteLineAsync($"error: {api.BaseAddress}{endpoint} answered {(int)response.StatusCode} with what is not the recommender API's answer: {(text.Length > 200 ? text[..200] + "…" : text)}");
                        await error.WriteLineAsync(StoredBefore(sent, batch, noun, mayBeStored: true));
                        exit = 1;
                        return;
                    }
                    sent += batch.Count;
                    task.Value = sent;
                }
                task.Value = task.MaxValue;
            });
        if (exit == 0)
            await output.WriteLineAsync($"Sent {sent:N0} {noun} from {file} to {api.BaseAddress}{endpoint} in {watch.Elapsed.TotalSeconds:0.0} s ({sent / Math.Max(watch.Elapsed.TotalSeconds, 1e-3):N0} a second).");
        return exit;
    }

    private IEnumerable<List<UploadRow>> Batches(IEnumerable<UploadRow> rows)
    {
        var batch = new List<UploadRow>(batchSize);
        var bytes = 2;
        foreach (var row in rows)
        {
            var size = Encoding.UTF8.GetByteCount(row.Json) + 1;
            if (batch.Count > 0 && (batch.Count == batchSize || bytes + size > MaxBatchBytes))
            {
                yield return batch;
                batch = new List<UploadRow>(batchSize);
                bytes = 2;
            }
            batch.Add(row);
            bytes += size;
        }
        if (batch.Count > 0) yield return batch;
    }

    /// <summary>The API's problems with a batch, each "[i].field" named as the file line it came from.</summary>
    private async Task Refused(TextWriter error, HttpStatusCode status, string text, List<UploadRow> batch, int sent, string noun)
    {
        var problems = ApiProblem.Read(text).Select(p => p.Field is null ? p.Message : $"{Where(p.Field, batch)}: {p.Message}").ToList();
        if (problems.Count == 0) problems.Add(ApiProblem.Excerpt(text, 500));
        await error.WriteLineAsync($"error: {api.BaseAddress}{endpoint} answered {(int)status} for the {noun} of lines {batch[0].Line}-{batch[^1].Line}:");
        foreach (var problem in problems.Take(20)) await error.WriteLineAsync($"  {problem}");
        if (problems.Count > 20) await error.WriteLineAsync($"  … and {problems.Count - 20} more");
        // A refusal (4xx) stores nothing of the batch, which the API checks whole; a 5xx may have stored it.
        await error.WriteLineAsync(StoredBefore(sent, batch, noun, mayBeStored: (int)status >= 500));
    }

    private string StoredBefore(int sent, List<UploadRow> batch, string noun, bool mayBeStored) =>
        (sent == 0 ? $"No {noun} before line {batch[0].Line} were sent" : $"The {sent:N0} {noun} before line {batch[0].Line} were stored")
        + (mayBeStored ? $"; those of lines {batch[0].Line}-{batch[^1].Line} may have been" : $"; none of lines {batch[0].Line}-{batch[^1].Line} was")
        + ". Run the command again once that is put right: what is stored already is stored once.";

    /// <summary>"[3].itemId" as "file:line: itemId"; a key without an index as it is.</summary>
    private string Where(string key, List<UploadRow> batch)
    {
        var match = IndexedField().Match(key);
        if (!match.Success || !int.TryParse(match.Groups["index"].Value, out var index) || index >= batch.Count) return key;
        var field = match.Groups["field"].Value;
        return $"{file}:{batch[index].Line}" + (field.Length > 0 ? $": {field}" : "");
    }

    [GeneratedRegex(@"^\[(?<index>\d+)\]\.?(?<field>.*)$")]
    private static partial Regex IndexedField();
}

using System.Net;
using System.Text;
using System.Text.Json;

namespace Recommender.Cli;

/// <summary>
/// The prune step of import-items --prune: reads the ids of the cluster's catalogue (GET /catalogue/export) and deletes
/// those the file does not hold (POST /items/delete, 1,000 a request), optionally only ids that start with a prefix (one
/// feed's items in a catalogue several feeds write). Items written after the catalogue was read are kept.
/// </summary>
internal sealed class CataloguePrune(ApiConnection api, int attempts, TextWriter output, TextWriter error)
{
    private const string ExportEndpoint = "catalogue/export";
    private const string DeleteEndpoint = "items/delete";
    private const int DeleteBatch = 1000;
    private const int Listed = 20;

    /// <summary>Deletes (or with <paramref name="dryRun"/> lists) the items the cluster holds beyond <paramref name="kept"/>; the exit code.</summary>
    public async Task<int> RunAsync(string file, IReadOnlySet<string> kept, string? prefix, bool dryRun, CancellationToken cancellation)
    {
        var held = await HeldIdsAsync(cancellation);
        if (held is null) return 1;
        var extra = held.Where(id => (prefix is null || id.StartsWith(prefix, StringComparison.Ordinal)) && !kept.Contains(id)).ToList();
        var scope = prefix is null ? "" : $" whose id starts with '{prefix}'";
        if (dryRun)
        {
            await output.WriteLineAsync($"{file} holds {kept.Count:N0} items; the cluster holds {extra.Count:N0} items{scope} that it does not, which --prune would delete{(extra.Count == 0 ? "." : ":")}");
            foreach (var id in extra.Take(Listed)) await output.WriteLineAsync($"  {id}");
            if (extra.Count > Listed) await output.WriteLineAsync($"  … and {extra.Count - Listed:N0} more");
            return 0;
        }
        long deleted = 0;
        foreach (var batch in extra.Chunk(DeleteBatch))
        {
            var body = JsonSerializer.Serialize(batch);
            HttpResponseMessage response;
            try
            {
                // A repeat of a deletion that ran answers false for its items: safe to send again.
                response = await api.SendAsync(() => new HttpRequestMessage(HttpMethod.Post, DeleteEndpoint) { Content = new StringContent(body, Encoding.UTF8, "application/json") },
                    attempts, retryLost: true, error, HttpCompletionOption.ResponseContentRead, cancellation);
            }
            catch (Exception e) when (!cancellation.IsCancellationRequested && e is HttpRequestException or TaskCanceledException)
            {
                await error.WriteLineAsync($"error: pruning failed: {api.NoAnswer(e)}; {deleted:N0} items deleted before. Run the command again to finish.");
                return 1;
            }
            using var answered = response;
            var text = await response.Content.ReadAsStringAsync(cancellation);
            if (!response.IsSuccessStatusCode)
            {
                await ApiProblem.ReportAsync(api, DeleteEndpoint, response.StatusCode, text, error, "Pruning the catalogue");
                await error.WriteLineAsync($"{deleted:N0} items were deleted before. Run the command again once that is put right.");
                return 1;
            }
            deleted += api.ReadAnswer<DeletedItems>(DeleteEndpoint, response.StatusCode, text).Deleted;
        }
        await output.WriteLineAsync($"{deleted:N0} items{scope} the file does not hold deleted.");
        return 0;
    }

    /// <summary>The id of every item the cluster holds, or null (the problem written) when the export cannot be read.</summary>
    private async Task<List<string>?> HeldIdsAsync(CancellationToken cancellation)
    {
        try
        {
            using var response = await api.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, ExportEndpoint), attempts, retryLost: true, error,
                HttpCompletionOption.ResponseHeadersRead, cancellation);
            if (!response.IsSuccessStatusCode)
            {
                await ApiProblem.ReportAsync(api, ExportEndpoint, response.StatusCode, await response.Content.ReadAsStringAsync(cancellation), error, "Pruning the catalogue");
                return null;
            }
            var ids = new List<string>();
            await using var body = await response.Content.ReadAsStreamAsync(cancellation);
            using var reader = new StreamReader(body);
            while (await reader.ReadLineAsync(cancellation) is { } line)
            {
                if (line.Length == 0) continue;
                if (IdOf(line) is not { } id)
                {
                    await error.WriteLineAsync($"error: {api.BaseAddress}{ExportEndpoint} answered with what is not the recommender API's catalogue: {ApiProblem.Excerpt(line, 200)}");
                    return null;
                }
                ids.Add(id);
            }
            return ids;
        }
        catch (Exception e) when (!cancellation.IsCancellationRequested && e is HttpRequestException or TaskCanceledException or IOException)
        {
            await error.WriteLineAsync($"error: reading the catalogue to prune it failed: {api.NoAnswer(e)}. Nothing was deleted.");
            return null;
        }
    }

    private static string? IdOf(string line)
    {
        try
        {
            using var item = JsonDocument.Parse(line);
            return item.RootElement.ValueKind == JsonValueKind.Object && item.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
                ? id.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record DeletedItems(int Count, int Deleted);
}

using System.CommandLine;
using System.Globalization;
using System.Net;

namespace Recommender.Cli;

/// <summary>
/// recommender delete-models: deletes registered model versions from the cluster (DELETE /models/{version}), either
/// the ones named or, with --keep, all but the most recently registered few, so that a nightly retraining job does
/// not fill the models directory. Pruning never touches the active version, the one a rollback would go to or the
/// fallback, and passes over a version the cluster still needs (one retired moments ago).
/// </summary>
internal static class DeleteModelsCommand
{
    public static Command Create()
    {
        var versions = new Option<string[]>("--version") { Description = "A version to delete; repeatable. Not with --keep." };
        var keep = new Option<int?>("--keep")
        {
            Description = "Delete every registered version but the N most recently registered (with --prefix, among the versions so named), never the active one, " +
                "the candidate, the rollback target or the fallback.",
        };
        var prefix = new Option<string?>("--prefix") { Description = "With --keep: only versions whose name starts with this are deleted or counted (e.g. the retraining job's 'retrain-')." };
        var dryRun = new Option<bool>("--dry-run") { Description = "List what would be deleted and delete nothing." };
        var api = ApiConnection.AddressOption();
        var apiKey = ApiConnection.KeyOption("An admin API key (Recommender:ApiKeys:Admin)");
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for each answer.", DefaultValueFactory = _ => 100 };
        var attempts = new Option<int>("--attempts") { Description = "Attempts a request, 1 to 100, while the cluster answers 429 or 503 or not at all.", DefaultValueFactory = _ => 5 };
        var command = new Command("delete-models", "Delete model versions from the cluster (DELETE /models/{version}): those named with --version, or all but the newest --keep.")
        {
            versions, keep, prefix, dryRun, api, apiKey, timeout, attempts,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var named = parse.GetValue(versions) ?? [];
            var (connection, refused) = ApiConnection.OpenChecked(parse, () =>
            {
                if (parse.GetValue(attempts) is < 1 or > 100) throw new ArgumentException($"--attempts {parse.GetValue(attempts)} must be between 1 and 100.");
                if (named.Length > 0 == parse.GetValue(keep).HasValue)
                    throw new ArgumentException("Give either --version (the versions to delete) or --keep N (delete all but the newest N), not both.");
                if (parse.GetValue(keep) is < 0) throw new ArgumentException($"--keep {parse.GetValue(keep)} must be 0 or more.");
                if (parse.GetValue(prefix) is not null && !parse.GetValue(keep).HasValue) throw new ArgumentException("--prefix chooses among versions to prune: give --keep too.");
                if (named.FirstOrDefault(v => string.IsNullOrWhiteSpace(v) || v.Contains('/')) is { } odd) throw new ArgumentException($"--version '{odd}' is not a version name.");
            }, parse.GetValue(api), parse.GetValue(apiKey), parse.GetValue(timeout));
            if (connection is null) return refused;
            using var http = connection;
            var tries = parse.GetValue(attempts);
            try
            {
                if (parse.GetValue(keep) is { } newest)
                {
                    var registry = await http.ReadAsync<Registry>("models", tries, error, "Deleting versions", cancellation);
                    if (registry is null) return 1;
                    var (delete, kept) = Prune(registry, newest, parse.GetValue(prefix));
                    await output.WriteLineAsync(kept);
                    named = [.. delete.Select(m => m.Version)];
                    if (named.Length == 0)
                    {
                        await output.WriteLineAsync("nothing to delete.");
                        return 0;
                    }
                }
                if (parse.GetValue(dryRun))
                {
                    foreach (var version in named) await output.WriteLineAsync($"would delete {version}");
                    return 0;
                }
                var failed = 0;
                foreach (var version in named)
                    failed += await Delete(http, version, tries, pruning: parse.GetValue(keep).HasValue, output, error, cancellation);
                return failed == 0 ? 0 : 1;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellation.IsCancellationRequested)
            {
                await error.WriteLineAsync($"error: {http.NoAnswer(e)}; " +
                    "run the command again: a version deleted already is reported as not registered.");
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

    /// <summary>
    /// The versions --keep deletes, oldest first, and a line saying what stays: the newest <paramref name="keep"/>
    /// (among those named with <paramref name="prefix"/>), the active version, the candidate, the rollback target and any fallback.
    /// </summary>
    internal static (List<Registered> Delete, string Kept) Prune(Registry registry, int keep, string? prefix)
    {
        var kept = new List<string>();
        if (registry.Active is { } active) kept.Add($"{active} (active)");
        if (registry.Candidate is { } candidate) kept.Add($"{candidate} (candidate)");
        if (registry.RollbackTarget is { } back && back != registry.Active && back != registry.Candidate) kept.Add($"{back} (rollback target)");
        string?[] serving = [registry.Active, registry.Candidate, registry.RollbackTarget];
        kept.AddRange(registry.Models.Where(m => m.Fallback && !serving.Contains(m.Version)).Select(m => $"{m.Version} (fallback)"));
        var prunable = registry.Models.Where(m => !serving.Contains(m.Version) && !m.Fallback).ToList();
        var named = prunable
            .Where(m => prefix is null || m.Version.StartsWith(prefix, StringComparison.Ordinal))
            .OrderByDescending(m => m.RegisteredAt)
            .ThenByDescending(m => m.Version, StringComparer.Ordinal)
            .ToList();
        kept.AddRange(named.Take(keep).Select(m => m.Version));
        var others = prunable.Count - named.Count;
        var line = (kept.Count == 0 ? "keeping no version" : $"keeping {string.Join(", ", kept)}")
            + (others > 0 ? $", and {others} version{(others == 1 ? "" : "s")} not starting with '{prefix}'" : "") + ".";
        return ([.. named.Skip(keep).Reverse()], line);
    }

    /// <summary>DELETE /models/{version}; 0 when it is gone (or, pruning, kept for a reason the cluster gives), 1 otherwise.</summary>
    private static async Task<int> Delete(ApiConnection http, string version, int attempts, bool pruning, TextWriter output, TextWriter error, CancellationToken cancellation)
    {
        var endpoint = $"models/{Uri.EscapeDataString(version)}";
        // A repeat of a deletion whose answer was lost finds the version gone (404), which the caller is told.
        using var response = await http.SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, endpoint), attempts, retryLost: true, error, HttpCompletionOption.ResponseContentRead, cancellation);
        var text = await response.Content.ReadAsStringAsync(cancellation);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            await output.WriteLineAsync($"deleted {version}");
            return 0;
        }
        if (pruning && response.StatusCode == HttpStatusCode.Conflict)
        {
            await output.WriteLineAsync($"kept {version}: {string.Join("; ", ApiProblem.Read(text).Select(p => p.Message))}");
            return 0;
        }
        await ApiProblem.ReportAsync(http, endpoint, response.StatusCode, text, error, "Deleting versions");
        return 1;
    }

    internal sealed record Registered(string Version, DateTimeOffset RegisteredAt, bool Fallback);

    internal sealed record Registry(string? Active, List<Registered> Models, string? RollbackTarget, string? Candidate = null);
}

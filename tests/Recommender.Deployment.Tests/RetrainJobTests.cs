using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Recommender.Deployment.Tests;

/// <summary>
/// deploy/retrain.sh, the retraining job the CronJob runs, against a single node on Kestrel with the built command line:
/// it trains on what the node holds and serves the model, and holds back a package below the floor (nothing sent) or
/// below the active version (registered, not served), exiting 3; older versions are pruned.
/// </summary>
public sealed class RetrainJobTests(Xunit.Abstractions.ITestOutputHelper log) : IDisposable
{
    private const int PerTheme = 30;
    private readonly string _directory = Directory.CreateTempSubdirectory("recommender-retrain-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task The_job_serves_a_model_of_the_nodes_data_and_holds_a_worse_one_back()
    {
        await using var node = NodeProcess.StartSingleNode("retrain", Path.Combine(_directory, "data"), _directory);
        await node.WaitReadyAsync(_http, TimeSpan.FromSeconds(120), "/health/live");
        var api = node.BaseAddress;

        // Two themes of 30 items; each user goes through 12 items of one theme in order, from a start of its own.
        var items = Enumerable.Range(0, 2 * PerTheme).Select(i => i < PerTheme
            ? new { id = $"space-{i}", title = $"Starship voyage {i}", text = "A space adventure", tags = new[] { "space" } }
            : new { id = $"kitchen-{i - PerTheme}", title = $"Home cooking {i - PerTheme}", text = "A kitchen guide", tags = new[] { "kitchen" } });
        using (var put = await _http.PostAsJsonAsync(new Uri(api, "/items"), items))
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        var start = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var events = Enumerable.Range(0, 80).SelectMany(u => Enumerable.Range(0, 12).Select(s => new
        {
            userId = $"user-{u}",
            itemId = $"{(u % 2 == 0 ? "space" : "kitchen")}-{(u * 7 + s) % PerTheme}",
            type = "view",
            timestamp = start.AddMinutes(u * 100 + s),
            eventId = $"e-{u}-{s}",
        })).ToList();
        using (var post = await _http.PostAsJsonAsync(new Uri(api, "/events"), events))
            Assert.True(post.IsSuccessStatusCode, await post.Content.ReadAsStringAsync());

        // Placed in the node's incoming directory and registered there, as the CronJob does on the silos' volume.
        var incoming = Path.Combine(_directory, "data", "models", ".incoming");
        var cache = Path.Combine(_directory, "cache", "text-vectors.tsv");
        var (exit, output) = await RetrainAsync(api, "first", ("EPOCHS", "60"), ("INCOMING", incoming), ("TEXT_CACHE", cache));
        Assert.True(exit == 0, output);
        Assert.Contains("encoded 60 items", output);
        // Only each user's last event is held out (HOLD_OUT=last, the default): the model learns from the other eleven.
        Assert.Contains("80 users, 60 items: 80 validation cases; no test set (--no-test)", output);
        Assert.True(File.Exists(cache));
        Assert.Contains($"registered first from {Path.Combine(incoming, "first")}: sasrec, 60 items", output);
        Assert.Contains("active: first", output);
        // The job's own versions (retrain-...) are pruned to the newest seven by default: there are none here.
        Assert.Contains("keeping first (active).", output);
        Assert.Contains("nothing to delete.", output);
        var firstRecorded = Regex.Match(output, @"registered first from \S+: [^\n]*?val_ndcg@10 ([0-9.]+)").Groups[1].Value;
        Assert.Equal("first", (await ModelsAsync(api)).GetProperty("active").GetString());
        var list = await _http.GetFromJsonAsync<JsonElement>(new Uri(api, "/users/user-0/recommendations?k=3"));
        Assert.Equal("first", list.GetProperty("modelVersion").GetString());

        // Below the floor: nothing is sent. The catalogue has not changed, so no text is encoded again.
        // With a test set as well, which the model does not learn from either.
        (exit, output) = await RetrainAsync(api, "floor", ("EPOCHS", "2"), ("MIN_VAL_NDCG", "0.99"), ("TEXT_CACHE", cache), ("HOLD_OUT", "last-two"));
        Assert.True(exit == 3, output);
        Assert.Contains("80 users, 60 items: 80 validation and test cases", output);
        Assert.Contains($"encoded 0 items", output);
        Assert.Contains($"reused 60 from {cache}", output);
        Assert.Contains("below --min-metric 0.99; nothing was sent", output);
        using (var missing = await _http.GetAsync(new Uri(api, "/models/floor")))
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        // Below the active version, both scored on this run's validation users: registered, not served.
        // Pruned to none of the versions named "wor...": the package held back is deleted again, the active one stays.
        (exit, output) = await RetrainAsync(api, "worse", ("EPOCHS", "1"), ("TOLERANCE", "0"), ("INCOMING", incoming), ("KEEP_VERSIONS", "0"), ("PRUNE_PREFIX", "wor"));
        Assert.True(exit == 3, output);
        Assert.Contains("held back: worse's val_ndcg@10", output);
        // The data has not changed, so both score on today's users what they recorded on the same users when trained
        // (the trainer's forward pass then, ONNX Runtime now).
        var worseRecorded = Regex.Match(output, @"registered worse from \S+: [^\n]*?val_ndcg@10 ([0-9.]+)").Groups[1].Value;
        Assert.Contains($"val_ndcg@10 on the 80 validation cases of {Path.Combine(_directory, "work-worse", "split")}: {worseRecorded} for worse, {firstRecorded} for the active first.", output);
        Assert.Contains("keeping first (active).", output);
        Assert.Contains("deleted worse", output);
        var models = await ModelsAsync(api);
        Assert.Equal("first", models.GetProperty("active").GetString());
        Assert.DoesNotContain(models.GetProperty("models").EnumerateArray(), m => m.GetProperty("version").GetString() == "worse");
        Assert.False(Directory.Exists(Path.Combine(_directory, "data", "models", "worse")));

        // As a candidate: served to half the users beside the active version, whatever the comparison would say, and
        // never pruned while it serves.
        (exit, output) = await RetrainAsync(api, "trial", ("EPOCHS", "1"), ("CANDIDATE_SHARE", "0.5"), ("KEEP_VERSIONS", "0"), ("PRUNE_PREFIX", "tri"));
        Assert.True(exit == 0, output);
        Assert.Contains("candidate: trial for a share of 0.5 of the users beside first", output);
        Assert.Contains("keeping first (active), trial (candidate).", output);
        models = await ModelsAsync(api);
        Assert.Equal(("first", "trial", 0.5), (models.GetProperty("active").GetString(), models.GetProperty("candidate").GetString(), models.GetProperty("candidateShare").GetDouble()));

        // With a test length, a run waits for the running test to reach it: no model is trained, nothing changes.
        (exit, output) = await RetrainAsync(api, "trial-2", ("EPOCHS", "1"), ("CANDIDATE_SHARE", "0.5"), ("AB_MIN_EVENTS", "1000"));
        Assert.True(exit == 0, output);
        Assert.Contains("trial against first since", output);
        Assert.Contains("the test continues: 0 and 0 next events of the 1,000 each side needs.", output);
        Assert.Contains("The running A/B test continues: no new model this run.", output);
        Assert.DoesNotContain("== train", output);
        models = await ModelsAsync(api);
        Assert.Equal(("first", "trial"), (models.GetProperty("active").GetString(), models.GetProperty("candidate").GetString()));
        Assert.DoesNotContain(models.GetProperty("models").EnumerateArray(), m => m.GetProperty("version").GetString() == "trial-2");

        // Decided by the always-valid p-values instead: the test runs on until they show a difference or AB_MAX_EVENTS.
        (exit, output) = await RetrainAsync(api, "trial-3", ("EPOCHS", "1"), ("CANDIDATE_SHARE", "0.5"), ("AB_SEQUENTIAL", "1"), ("AB_MAX_EVENTS", "1000"));
        Assert.True(exit == 0, output);
        Assert.Contains("decide the running A/B test (by its always-valid p-values)", output);
        Assert.Contains("the test continues: no difference shown by the always-valid p-values at the 0.05 level yet (0 and 0 next events of at most 1,000 a side).", output);
        Assert.Contains("The running A/B test continues: no new model this run.", output);
        Assert.DoesNotContain("== train", output);
        // Judged by revenue per list instead of the hit rate (purchases per list the same way, CandidateTests).
        (exit, output) = await RetrainAsync(api, "trial-3", ("CANDIDATE_SHARE", "0.5"), ("AB_SEQUENTIAL", "1"), ("AB_GOAL", "revenue"));
        Assert.True(exit == 0, output);
        Assert.Contains("decide the running A/B test (by its always-valid p-values, judged by revenue)", output);
        Assert.Contains("The running A/B test continues: no new model this run.", output);
        // Two ways of deciding at once, or an odd setting, are refused before anything is read.
        (exit, output) = await RetrainAsync(api, "trial-4", ("CANDIDATE_SHARE", "0.5"), ("AB_SEQUENTIAL", "1"), ("AB_GOAL", "profit"));
        Assert.Equal((1, true), (exit, output.Contains("AB_GOAL must be hit-rate, purchases or revenue, not 'profit'.", StringComparison.Ordinal)));
        (exit, output) = await RetrainAsync(api, "trial-4", ("CANDIDATE_SHARE", "0.5"), ("AB_GOAL", "purchases"));
        Assert.Equal((1, true), (exit, output.Contains("AB_GOAL is the rate a test is decided by: set AB_MIN_EVENTS or AB_SEQUENTIAL=1 too.", StringComparison.Ordinal)));
        (exit, output) = await RetrainAsync(api, "trial-4", ("CANDIDATE_SHARE", "0.5"), ("AB_SEQUENTIAL", "1"), ("AB_MIN_EVENTS", "1000"));
        Assert.Equal((1, true), (exit, output.Contains("AB_SEQUENTIAL and AB_MIN_EVENTS are two ways of deciding a test: set one.", StringComparison.Ordinal)));
        (exit, output) = await RetrainAsync(api, "trial-4", ("CANDIDATE_SHARE", "0.5"), ("AB_SEQUENTIAL", "yes"));
        Assert.Equal((1, true), (exit, output.Contains("AB_SEQUENTIAL must be 1 (or 0 or unset), not 'yes'.", StringComparison.Ordinal)));
        (exit, output) = await RetrainAsync(api, "trial-4", ("CANDIDATE_SHARE", "0.5"), ("AB_MAX_EVENTS", "1000"));
        Assert.Equal((1, true), (exit, output.Contains("AB_MAX_EVENTS bounds a sequential test: set AB_SEQUENTIAL=1 too.", StringComparison.Ordinal)));
        Assert.Equal(("first", "trial"), ((await ModelsAsync(api)).GetProperty("active").GetString(), (await ModelsAsync(api)).GetProperty("candidate").GetString()));
    }

    private async Task<JsonElement> ModelsAsync(Uri api) => await _http.GetFromJsonAsync<JsonElement>(new Uri(api, "/models"));

    /// <summary>Runs the job with the built command line and a small model; its exit code and everything it printed.</summary>
    private async Task<(int Exit, string Output)> RetrainAsync(Uri api, string version, params (string Name, string Value)[] settings)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _directory };
        start.ArgumentList.Add(RepositoryPaths.Deploy("retrain.sh"));
        start.Environment["API"] = api.ToString();
        start.Environment["RECOMMENDER"] = $"dotnet {RepositoryPaths.ProjectOutput("Recommender.Cli", "recommender")}";
        start.Environment["VERSION"] = version;
        start.Environment["WORK"] = Path.Combine(_directory, $"work-{version}");
        foreach (var (name, value) in new[] { ("DIM", "32"), ("MAX_LENGTH", "16"), ("BLOCKS", "1"), ("BATCH_SIZE", "16"), ("THREADS", "2"), ("PATIENCE", "100") }.Concat(settings))
            start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        var text = await output + await error;
        foreach (var line in text.Split('\n').Where(l => l.StartsWith("==", StringComparison.Ordinal) || l.Contains("val_ndcg@10", StringComparison.Ordinal) || l.StartsWith("Completed", StringComparison.Ordinal)))
            log.WriteLine(line);
        return (process.ExitCode, text);
    }
}

using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;
using Recommender.Cli;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Model.Data;

namespace Recommender.Cluster.Tests.Text;

/// <summary>
/// A team's first day, with its own catalogue and history and no demo: import-items and import-events load the files,
/// export-events gives the history back, encode-text --items encodes the catalogue's texts, train makes an id+text
/// package of them, publish serves it, and then the users get their next items and a new item is placed by its text
/// among the items like it.
/// </summary>
public sealed class OwnCatalogueTests(Xunit.Abstractions.ITestOutputHelper log) : IDisposable
{
    private const int PerTheme = 30;
    private readonly string _directory = Directory.CreateTempSubdirectory("recommender-own-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Files_of_a_catalogue_and_its_history_become_a_served_model_that_knows_the_catalogue()
    {
        await using var cluster = new Fixture(new ClusterFixtureOptions { Silos = 1, SeedDemo = false });
        await cluster.StartAsync();

        // Two themes of 30 items; each user goes through 12 items of one theme in order, from a start of its own.
        string[] space = ["rocket", "orbit", "asteroid", "galaxy", "astronaut", "nebula"];
        string[] kitchen = ["skillet", "recipe", "oven", "spatula", "baking", "saucepan"];
        var items = Enumerable.Range(0, 2 * PerTheme).Select(i => i < PerTheme
            ? new { id = $"space-{i}", title = $"Starship voyage {i}", text = $"A space adventure with a {space[i % 6]} and a {space[(i + 2) % 6]}", tags = new[] { "space" } }
            : new { id = $"kitchen-{i - PerTheme}", title = $"Home cooking {i - PerTheme}", text = $"A kitchen guide to the {kitchen[i % 6]} and the {kitchen[(i + 3) % 6]}", tags = new[] { "kitchen" } })
            .ToList();
        var catalogue = Path.Combine(_directory, "items.jsonl");
        await File.WriteAllLinesAsync(catalogue, items.Select(i => JsonSerializer.Serialize(i)));
        var start = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var next = new Dictionary<string, string>();
        var events = new List<(string UserId, string ItemId, string EventType, DateTimeOffset Timestamp, string EventId)>();
        for (var u = 0; u < 80; u++)
        {
            var theme = u % 2 == 0 ? "space" : "kitchen";
            var first = u * 7 % PerTheme;
            for (var s = 0; s < 12; s++)
                events.Add(($"user-{u}", $"{theme}-{(first + s) % PerTheme}", "view", start.AddMinutes(u * 100 + s), $"e-{u}-{s}"));
            next[$"user-{u}"] = $"{theme}-{(first + 12) % PerTheme}";
        }
        var history = Path.Combine(_directory, "events.csv");
        await using (var writer = new StreamWriter(history)) EventExportFormat.Write(writer, events);

        var api = cluster.BaseAddress.ToString();
        Assert.Contains("60 items written", await Cli("import-items", "--file", catalogue, "--api", api));
        Assert.Contains("960 stored, 0 already there", await Cli("import-events", "--file", history, "--api", api));
        var exported = Path.Combine(_directory, "exported.csv");
        await Cli("export-events", "--api", api, "--out", exported);
        Assert.Equal(events.Select(e => e.EventId).Order(StringComparer.Ordinal), EventExportFormat.Read(exported).Select(e => e.EventId).Order(StringComparer.Ordinal));

        var vectors = Path.Combine(_directory, "items.tsv");
        Assert.Contains("encoded 60 items", await Cli("encode-text", "--items", catalogue, "--out", vectors, "--threads", "2"));
        // Each user's last two events held out for validation and test, as a retraining job would, so that the package
        // records its validation score and publish can hold a worse one back.
        var split = Path.Combine(_directory, "split");
        await Cli("split", "--data", exported, "--format", "event-export", "--text-vectors", vectors, "--out", split);
        var package = Path.Combine(_directory, "package");
        await Cli("train", "--train", Path.Combine(split, "train", "input.txt"), "--val-input", Path.Combine(split, "val", "input.txt"),
            "--val-output", Path.Combine(split, "val", "output.txt"), "--item-ids", Path.Combine(split, "items.tsv"),
            "--item-text", "id+text", "--item-text-file", Path.Combine(split, "text-vectors.tsv"),
            "--item-id-dropout", "0.5", "--loss", "ce", "--dim", "32", "--max-length", "16", "--blocks", "1", "--epochs", "40",
            "--batch-size", "32", "--lr", "0.005", "--seed", "1", "--threads", "2", "--out", Path.Combine(_directory, "run"),
            "--export", package, "--version", "own-v1");

        var published = await Cli("publish", "--package", package, "--activate", "--min-metric", "val_ndcg@10=0.3", "--api", api);
        Assert.Contains("registered own-v1: sasrec, 60 items", published);
        Assert.Contains("active: own-v1", published);
        // Every silo's catalogue cache picks the new pointer up within its (test) TTL of 200 ms.
        await Task.Delay(400);

        // Each user's next item in the order the history taught, among the first three.
        var hits = 0;
        foreach (var (user, expected) in next)
        {
            var list = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=3");
            Assert.Equal("model", list.Source);
            if (list.Items.Any(i => i.Id == expected)) hits++;
        }
        log.WriteLine($"{hits} of 80 users had their next item among the first three");
        Assert.True(hits >= 60, $"{hits} of 80 users had their next item among the first three");

        // An item nobody has touched, placed by its text among the items of its theme.
        using (var put = await cluster.Http.PutAsJsonAsync("/items/space-new", new { title = "Starship voyage to the nebula", text = "A space adventure with an astronaut and a galaxy", tags = new[] { "space" } }))
        {
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
            Assert.Equal("text", (await put.Content.ReadFromJsonAsync<TextItemReply>())!.VectorSource);
        }
        var similar = await cluster.GetJsonAsync<SimilarReply>("/items/space-new/similar?k=10");
        log.WriteLine($"neighbours of the new space item: {string.Join(", ", similar.Items.Select(i => i.Id))}");
        Assert.True(similar.Items.Count(i => i.Id.StartsWith("space-", StringComparison.Ordinal)) >= 8,
            $"neighbours of the new space item: {string.Join(", ", similar.Items.Select(i => i.Id))}");
    }

    /// <summary>Runs a command of the tool in this process; a failure fails the test with its message.</summary>
    private static async Task<string> Cli(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await Task.Run(() => CliCommands.RunAsync(CliCommands.Root(), args, new InvocationConfiguration { Output = output, Error = error }));
        Assert.True(exit == 0, $"recommender {args[0]} exited with {exit}: {error}");
        return output.ToString();
    }

    private sealed class Fixture(ClusterFixtureOptions options) : ClusterFixture(options), IAsyncDisposable
    {
        async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
    }
}

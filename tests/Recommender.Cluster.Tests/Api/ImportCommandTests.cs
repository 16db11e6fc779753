using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Recommender.Cli;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Model.Data;

namespace Recommender.Cluster.Tests.Api;

/// <summary>
/// `recommender import-items` and `import-events` against the cluster's front end on Kestrel: what the files say is
/// what the cluster then holds, a second run stores nothing twice, and a file or batch that is refused is named by line
/// with what was stored before it said.
/// </summary>
[Collection(SmallClusterCollection.Name)]
public sealed class ImportCommandTests(SmallCatalogueCluster cluster) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("recommender-import-").FullName;
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Items_and_then_their_events_are_imported_and_a_second_run_stores_nothing_twice()
    {
        var items = Write("items.jsonl",
            $$"""{"id":"{{_run}}-lamp","title":"Desk lamp","text":"Brass, adjustable","tags":["home","light"]}""",
            "",
            $$"""{"id":"{{_run}}-old","title":"Old catalogue","hidden":true}""",
            $$"""{"id":"{{_run}}-sale","title":"Winter sale","expiresAt":"2099-01-01T00:00:00Z"}""");
        var (exit, output, error) = await Cli("import-items", "--file", items);
        Assert.True(exit == 0, error);
        Assert.Contains("3 items written", output);
        var lamp = await cluster.GetJsonAsync<JsonElement>($"/items/{_run}-lamp");
        Assert.Equal("Desk lamp", lamp.GetProperty("title").GetString());
        Assert.Equal("Brass, adjustable", lamp.GetProperty("text").GetString());
        Assert.Equal(["home", "light"], lamp.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.True((await cluster.GetJsonAsync<JsonElement>($"/items/{_run}-old")).GetProperty("hidden").GetBoolean());
        Assert.Equal(new DateTimeOffset(2099, 1, 1, 0, 0, 0, TimeSpan.Zero), (await cluster.GetJsonAsync<JsonElement>($"/items/{_run}-sale")).GetProperty("expiresAt").GetDateTimeOffset());

        // 23 users of 100 events each, in batches of 1,000: three requests, events of one user in two of them.
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        string[] catalogue = [$"{_run}-lamp", $"{_run}-sale", "1", "2", "3", "4"];
        var events = Enumerable.Range(0, 2300).Select(i => (UserId: $"{_run}-u{i % 23}", ItemId: catalogue[i % catalogue.Length],
            EventType: i % 7 == 0 ? "rating" : "view", Timestamp: start.AddSeconds(i), EventId: $"{_run}-e{i}", Value: i % 7 == 0 ? (double?)(1 + i % 5) : null)).ToList();
        var file = Path.Combine(_directory, "events.csv");
        using (var writer = new StreamWriter(file)) EventExportFormat.Write(writer, events);
        (exit, output, error) = await Cli("import-events", "--file", file);
        Assert.True(exit == 0, error);
        Assert.Contains("Sent 2,300 events", output);
        Assert.Contains("2,300 stored, 0 already there", output);
        await AssertHistoriesAsync(events);

        (exit, output, error) = await Cli("import-events", "--file", file, "--batch-size", "700");
        Assert.True(exit == 0, error);
        Assert.Contains("0 stored, 2,300 already there", output);
        await AssertHistoriesAsync(events);
    }

    [Fact]
    public async Task Events_in_json_lines_are_imported_and_a_second_run_batched_otherwise_stores_nothing_twice()
    {
        var user = $"{_run}-json";
        var file = Write("events.jsonl",
            $$"""{"userId":"{{user}}","itemId":"1","type":"view","eventId":"{{_run}}-j1","timestamp":"2026-02-01T10:00:00Z"}""",
            $$"""{"userId":"{{user}}","itemId":"2","type":"click","timestamp":"2026-02-01T10:01:00Z"}""",
            "",
            $$"""{"userId":"{{user}}","itemId":"3","type":"rating","value":4,"timestamp":1769940120}""",
            $$"""{"userId":"{{user}}","itemId":"4","type":"VIEW","timestamp":"2026-02-01T10:03:00Z"}""");
        var (exit, output, error) = await Cli("import-events", "--file", file, "--batch-size", "3");
        Assert.True(exit == 0, error);
        Assert.Contains("4 stored, 0 already there", output);
        var history = await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history");
        Assert.Equal(["1", "2", "3", "4"], history.Events.Select(e => e.ItemId));
        Assert.Equal(4.0, history.Events[2].Value);
        Assert.Equal($"{_run}-j1", history.Events[0].EventId);

        (exit, output, error) = await Cli("import-events", "--file", file, "--batch-size", "1");
        Assert.True(exit == 0, error);
        Assert.Contains("0 stored, 4 already there", output);
        Assert.Equal(4, (await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history")).TotalCount);

        // An event with neither an id nor a time would be stored again by a second run: refused before anything is sent.
        var other = $"{_run}-untimed";
        file = Write("untimed.jsonl",
            $$"""{"userId":"{{other}}","itemId":"1","type":"view","timestamp":"2026-02-01T10:00:00Z"}""",
            $$"""{"userId":"{{other}}","itemId":"2","type":"view"}""");
        (exit, _, error) = await Cli("import-events", "--file", file);
        Assert.Equal(1, exit);
        Assert.Contains($"{file}:2: the event has neither an \"eventId\" nor a \"timestamp\"", error);
        file = Write("array.jsonl", $$"""{"userId":"{{other}}","itemId":"1","type":"view","timestamp":"2026-02-01T10:00:00Z"}""", "[]");
        (exit, _, error) = await Cli("import-events", "--file", file);
        Assert.Equal(1, exit);
        Assert.Contains($"{file}:2: an event must be a JSON object, not array", error);
        Assert.Equal(0, (await cluster.GetJsonAsync<HistoryReply>($"/users/{other}/history")).TotalCount);
    }

    /// <summary>
    /// export-items gives every item back as the line import-items takes, ids whose grain keys the storage files as
    /// numbers or GUIDs included, and what it writes loads again unchanged.
    /// </summary>
    [Fact]
    public async Task The_catalogue_exported_is_what_was_imported_and_imports_again()
    {
        var dimension = (await cluster.GetJsonAsync<JsonElement>("/models")).GetProperty("models").EnumerateArray()
            .First(m => m.GetProperty("state").GetString() == "active").GetProperty("dimension").GetInt32();
        var number = Random.Shared.NextInt64(1L << 40, 1L << 50);
        var guid = Guid.NewGuid();
        string[] ids = [$"{number:X}", $"0{number:X}", $"{number:x}", $"{guid:N}", $"{guid:N}+{_run}", $"{number:X}+{_run}", $"{{{_run}}}", $"~{_run}", $"{_run} spaced / slashed"];
        var lines = ids.Select((id, i) => JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["id"] = id,
            ["title"] = $"Exported {i}",
            ["text"] = i % 2 == 0 ? $"Text {i}" : null,
            ["tags"] = i % 3 == 0 ? new[] { "export", $"t{i}" } : null,
            ["hidden"] = i == 1 ? true : null,
            ["expiresAt"] = i == 2 ? "2099-01-01T00:00:00Z" : null,
            ["availableFrom"] = i == 2 ? "2026-01-01T00:00:00Z" : null,
            ["embedding"] = i == 3 ? Enumerable.Range(1, dimension).Select(d => d / 10f).ToArray() : null,
        }.Where(p => p.Value is not null).ToDictionary())).ToArray();
        var file = Write("catalogue.jsonl", lines);
        var (exit, output, error) = await Cli("import-items", "--file", file);
        Assert.True(exit == 0, error);
        Assert.Contains($"{ids.Length} items written", output);

        // Items written one by one keep grain state rather than bulk rows: the export reads their ids back from the
        // storage's key columns, where numbers and GUIDs are filed as such.
        var otherNumber = number + 1;
        var otherGuid = Guid.NewGuid();
        string[] put = [$"{otherNumber:X}", $"0{otherNumber:X}", $"{otherGuid:N}", $"{otherGuid:N}+{_run}", $"{otherNumber:X}+{_run}", $"{{{_run}-put}}", $"~{_run}-put", $"{_run}-put"];
        foreach (var id in put)
            using (var response = await cluster.Http.PutAsJsonAsync($"/items/{Uri.EscapeDataString(id)}", new { title = $"Put {id}" }))
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());

        var exported = Path.Combine(_directory, "exported.jsonl");
        (exit, output, error) = await Cli("export-items", "--out", exported);
        Assert.True(exit == 0, error);
        var all = File.ReadAllLines(exported).Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(e => e.GetProperty("id").GetString()!);
        Assert.Contains($"wrote {all.Count} items", output);
        Assert.True(all.Count >= SmallCatalogue.Movies + ids.Length + put.Length, $"{all.Count} items exported");
        Assert.Equal("Movie 1 (1951)", all["1"].GetProperty("title").GetString());
        foreach (var (line, id) in lines.Zip(ids))
        {
            Assert.True(all.TryGetValue(id, out var back), $"'{id}' is not in the export");
            var given = JsonDocument.Parse(line).RootElement;
            Assert.Equal(given.GetProperty("title").GetString(), back.GetProperty("title").GetString());
            Assert.Equal(Text(given, "text"), Text(back, "text"));
            Assert.Equal(Strings(given, "tags"), Strings(back, "tags"));
            Assert.Equal(given.TryGetProperty("hidden", out _), back.TryGetProperty("hidden", out var hidden) && hidden.GetBoolean());
            Assert.Equal(Time(given, "expiresAt"), Time(back, "expiresAt"));
            Assert.Equal(Time(given, "availableFrom"), Time(back, "availableFrom"));
            Assert.Equal(given.TryGetProperty("embedding", out var e) ? e.EnumerateArray().Select(v => v.GetSingle()) : [],
                back.TryGetProperty("embedding", out var b) ? b.EnumerateArray().Select(v => v.GetSingle()) : []);
        }

        foreach (var id in put)
        {
            Assert.True(all.TryGetValue(id, out var back), $"'{id}', written by PUT, is not in the export");
            Assert.Equal($"Put {id}", back.GetProperty("title").GetString());
        }

        // The export loads again as it is.
        (exit, output, error) = await Cli("import-items", "--file", exported);
        Assert.True(exit == 0, error);
        Assert.Contains($"{all.Count} items written", output);
        Assert.Equal("Exported 0", (await cluster.GetJsonAsync<JsonElement>($"/items/{Uri.EscapeDataString(ids[0])}")).GetProperty("title").GetString());

        static string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetString() : null;
        static string[] Strings(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? [.. v.EnumerateArray().Select(t => t.GetString()!)] : [];
        static DateTimeOffset? Time(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetDateTimeOffset() : null;
    }

    [Fact]
    public async Task A_batch_the_api_refuses_is_named_by_line_and_the_batches_before_it_stay_stored()
    {
        var user = $"{_run}-refused";
        var file = Write("events.csv", EventExportFormat.Header,
            $"{user},1,view,2026-01-01T00:00:00Z,{_run}-a,",
            $"{user},2,view,2026-01-01T00:00:01Z,{_run}-b,",
            $"{user},3,view,2026-01-01T00:00:02Z,{_run}-c,",
            $"{user},{_run}-nowhere,view,2026-01-01T00:00:03Z,{_run}-d,",
            $"{user},5,view,2026-01-01T00:00:04Z,{_run}-e,");
        var (exit, _, error) = await Cli("import-events", "--file", file, "--batch-size", "2");
        Assert.Equal(1, exit);
        Assert.Contains("answered 400 for the events of lines 4-5", error);
        Assert.Contains($"{file}:5: itemId:", error);
        Assert.Contains("The 2 events before line 4 were stored; none of lines 4-5 was", error);
        Assert.Equal([$"{_run}-a", $"{_run}-b"], (await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history")).Events.Select(e => e.EventId));
        // Accepting items not in the catalogue (deleted since the events were recorded) stores the rest, and says how many.
        (exit, var output, error) = await Cli("import-events", "--file", file, "--batch-size", "2", "--accept-unknown-items");
        Assert.True(exit == 0, error);
        Assert.Contains("3 stored, 2 already there; 1 of their items are not in the catalogue.", output);
        Assert.Equal(5, (await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history")).TotalCount);

        // A malformed line anywhere stores nothing: the file is read whole first.
        var other = $"{_run}-malformed";
        file = Write("malformed.csv", EventExportFormat.Header, $"{other},1,view,2026-01-01T00:00:00Z,{_run}-f,", $"{other},2,view,yesterday,{_run}-g,");
        (exit, _, error) = await Cli("import-events", "--file", file);
        Assert.Equal(1, exit);
        Assert.Contains($"{file}:3: timestamp 'yesterday' is not an ISO-8601 UTC time", error);
        Assert.Equal(0, (await cluster.GetJsonAsync<HistoryReply>($"/users/{other}/history")).TotalCount);

        // Items: a line that is no object, an id twice, and a field the API refuses, each named by line.
        file = Write("bad.jsonl", $$"""{"id":"{{_run}}-x","title":"X"}""", "[1, 2]");
        (exit, _, error) = await Cli("import-items", "--file", file);
        Assert.Equal(1, exit);
        Assert.Contains($"{file}:2: an item must be a JSON object, not array", error);
        file = Write("twice.jsonl", $$"""{"id":"{{_run}}-x","title":"X"}""", $$"""{"id":"{{_run}}-x","title":"Y"}""");
        (_, _, error) = await Cli("import-items", "--file", file);
        Assert.Contains($"{file}:2: item '{_run}-x' is on line 1 too", error);
        file = Write("refused.jsonl", $$"""{"id":"{{_run}}-y","title":"Y"}""", $$"""{"id":"{{_run}}-z","title":"Z","hidden":"yes"}""");
        (exit, _, error) = await Cli("import-items", "--file", file);
        Assert.Equal(1, exit);
        Assert.Contains($"{file}:2: hidden:", error);
        Assert.Contains("No items before line 1 were sent; none of lines 1-2 was", error);
        using var notThere = await cluster.Http.GetAsync($"/items/{_run}-y");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, notThere.StatusCode);
    }

    [Fact]
    public async Task Delete_items_deletes_what_a_file_of_ids_or_of_items_names_and_a_second_run_finds_them_gone()
    {
        var (lamp, chair, desk) = ($"{_run}-del-lamp", $"{_run}-del-chair", $"{_run}-del-desk");
        var items = Write("delete.jsonl", $$"""{"id":"{{lamp}}","title":"Lamp"}""", $$"""{"id":"{{chair}}","title":"Chair"}""", $$"""{"id":"{{desk}}","title":"Desk"}""");
        var (exit, _, error) = await Cli("import-items", "--file", items);
        Assert.True(exit == 0, error);

        // One id a line, blank lines skipped, one request each.
        var ids = Write("delete.txt", lamp, "", $"{_run}-del-never");
        (exit, var output, error) = await Cli("delete-items", "--file", ids, "--batch-size", "1");
        Assert.True(exit == 0, error);
        Assert.Contains("Sent 2 ids", output);
        Assert.Contains("1 items deleted, 1 not in the catalogue", output);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, await StatusOf($"/items/{lamp}"));
        Assert.Equal(System.Net.HttpStatusCode.OK, await StatusOf($"/items/{chair}"));

        // A catalogue file: its items' ids (the lamp is gone already).
        (exit, output, error) = await Cli("delete-items", "--file", items);
        Assert.True(exit == 0, error);
        Assert.Contains("2 items deleted, 1 not in the catalogue", output);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, await StatusOf($"/items/{chair}"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, await StatusOf($"/items/{desk}"));

        // An id twice, or one the API refuses, is named by line, and nothing is deleted.
        (exit, _, error) = await Cli("import-items", "--file", Write("kept.jsonl", $$"""{"id":"{{desk}}","title":"Desk"}"""));
        Assert.True(exit == 0, error);
        var file = Write("twice.txt", desk, desk);
        (exit, _, error) = await Cli("delete-items", "--file", file);
        Assert.Equal(1, exit);
        Assert.Contains($"{file}:2: item '{desk}' is on line 1 too", error);
        file = Write("refused.txt", desk, "badid");
        (exit, _, error) = await Cli("delete-items", "--file", file);
        Assert.Equal(1, exit);
        Assert.Contains($"{file}:2: The id must not contain control characters", error);
        Assert.Contains("none of lines 1-2 was", error);
        Assert.Equal(System.Net.HttpStatusCode.OK, await StatusOf($"/items/{desk}"));
        using (await cluster.Http.DeleteAsync($"/items/{desk}")) { }
    }

    [Fact]
    public async Task Remove_events_takes_back_what_each_line_names_and_refuses_a_bad_line_before_anything_is_taken_back()
    {
        var user = $"{_run}-takeback";
        using (var posted = await cluster.Http.PostAsJsonAsync("/events", new[] { "2", "4", "6" }.Select((item, i) => new { userId = user, itemId = item, type = "purchase", eventId = $"p{i}" })))
            Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync());
        async Task<string[]> Left() => [.. (await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history")).Events.Select(e => e.EventId)];

        var file = Write("takebacks-bad.jsonl", $$"""{"userId":"{{user}}","itemId":"2"}""", $$"""{"userId":"{{user}}","eventId":"p1","type":"purchase"}""");
        var (exit, _, error) = await Cli("remove-events", "--file", file);
        Assert.Equal(1, exit);
        Assert.Contains($"{file}:2: type:", error);
        Assert.Equal(["p0", "p1", "p2"], await Left());

        file = Write("takebacks.jsonl", $$"""{"userId":"{{user}}","itemId":"2","type":"purchase"}""", $$"""{"userId":"{{user}}","eventId":"p1"}""");
        for (var run = 0; run < 2; run++)
        {
            (exit, var output, error) = await Cli("remove-events", "--file", file, "--batch-size", "1");
            Assert.True(exit == 0, error);
            // Sent again, the same lines find nothing left to take back.
            Assert.Contains(run == 0 ? "2 take-backs sent, 2 events removed." : "2 take-backs sent, 0 events removed.", output);
        }
        Assert.Equal(["p2"], await Left());
    }

    [Fact]
    public async Task Change_items_changes_only_the_fields_each_line_gives_and_names_the_items_missing_and_the_changes_refused()
    {
        var (lamp, chair, never) = ($"{_run}-chg-lamp", $"{_run}-chg-chair", $"{_run}-chg-never");
        var (exit, _, error) = await Cli("import-items", "--file", Write("change-items.jsonl",
            $$"""{"id":"{{lamp}}","title":"Lamp","text":"Brass","tags":["light"]}""", $$"""{"id":"{{chair}}","title":"Chair","expiresAt":"2099-01-01T00:00:00Z"}"""));
        Assert.True(exit == 0, error);
        try
        {
            // A field the API refuses is named by line, and nothing is changed.
            var file = Write("changes-bad.jsonl", $$"""{"id":"{{lamp}}","hidden":true}""", $$"""{"id":"{{chair}}","hidden":"yes"}""");
            (exit, _, error) = await Cli("change-items", "--file", file);
            Assert.Equal(1, exit);
            Assert.Contains($"{file}:2: hidden:", error);
            Assert.False((await cluster.GetJsonAsync<ItemReply>($"/items/{lamp}")).Hidden);

            // Hidden, with its text removed; an id not in the catalogue named; a window the item's end would close refused.
            file = Write("changes.jsonl", $$"""{"id":"{{lamp}}","hidden":true,"text":null}""", $$"""{"id":"{{never}}","title":"Never"}""",
                $$"""{"id":"{{chair}}","availableFrom":"2100-01-01T00:00:00Z"}""");
            (exit, var output, error) = await Cli("change-items", "--file", file, "--batch-size", "2");
            Assert.Equal(1, exit);
            Assert.Contains("1 items changed, 1 not in the catalogue, 1 refused.", output);
            Assert.Contains($"Not in the catalogue (nothing written for them): {never}.", error);
            Assert.Contains($"refused: {file}:3: 'expiresAt'", error);
            var changed = await cluster.GetJsonAsync<ItemReply>($"/items/{lamp}");
            Assert.Equal((true, (string?)null, "Lamp", "light"), (changed.Hidden, changed.Text, changed.Title, changed.Tags.Single()));
            Assert.Null((await cluster.GetJsonAsync<ItemReply>($"/items/{chair}")).AvailableFrom);

            // Every change made: exit 0, and the same file again leaves the items as they are.
            file = Write("changes-ok.jsonl", $$"""{"id":"{{lamp}}","hidden":false}""", $$"""{"id":"{{chair}}","expiresAt":null}""");
            for (var run = 0; run < 2; run++)
            {
                (exit, output, error) = await Cli("change-items", "--file", file);
                Assert.True(exit == 0, error);
                Assert.Contains("2 items changed, 0 not in the catalogue, 0 refused.", output);
            }
            Assert.Equal((false, (DateTimeOffset?)null), ((await cluster.GetJsonAsync<ItemReply>($"/items/{lamp}")).Hidden, (await cluster.GetJsonAsync<ItemReply>($"/items/{chair}")).ExpiresAt));

            // Lines naming the version they were planned against: the item still at it is changed, the one written
            // since is named with the version it is at, and nothing is written for it.
            var lampVersion = (await cluster.GetJsonAsync<ItemReply>($"/items/{lamp}")).Version;
            var chairRead = (await cluster.GetJsonAsync<ItemReply>($"/items/{chair}")).Version;
            using (var meanwhile = await cluster.Http.PatchAsJsonAsync($"/items/{chair}", new { text = "Oak" }))
                Assert.Equal(System.Net.HttpStatusCode.OK, meanwhile.StatusCode);
            var chairNow = (await cluster.GetJsonAsync<ItemReply>($"/items/{chair}")).Version;
            file = Write("changes-versioned.jsonl", $$"""{"id":"{{lamp}}","title":"Lamp, brass","ifVersion":"{{lampVersion}}"}""",
                $$"""{"id":"{{chair}}","title":"Chair, pine","ifVersion":"{{chairRead}}"}""");
            (exit, output, error) = await Cli("change-items", "--file", file);
            Assert.Equal(1, exit);
            Assert.Contains("1 items changed, 0 not in the catalogue, 0 refused, 1 written since the version named.", output);
            Assert.Contains($"written since (nothing written; read it again): {file}:2: item '{chair}' is at version {chairNow}", error);
            Assert.Equal(("Lamp, brass", "Chair", "Oak"), ((await cluster.GetJsonAsync<ItemReply>($"/items/{lamp}")).Title,
                (await cluster.GetJsonAsync<ItemReply>($"/items/{chair}")).Title, (await cluster.GetJsonAsync<ItemReply>($"/items/{chair}")).Text));
        }
        finally
        {
            using (await cluster.Http.PostAsJsonAsync("/items/delete", new[] { lamp, chair })) { }
        }
    }

    [Fact]
    public async Task Import_items_with_prune_deletes_the_items_of_its_prefix_the_file_no_longer_holds()
    {
        var prefix = $"{_run}-feed-";
        string Line(string id, string title) => $$"""{"id":"{{prefix}}{{id}}","title":"{{title}}"}""";
        var (exit, _, error) = await Cli("import-items", "--file", Write("feed-1.jsonl", Line("a", "A"), Line("b", "B"), Line("c", "C")));
        Assert.True(exit == 0, error);
        // The next day's feed: b has left it, d is new, a is retitled.
        var next = Write("feed-2.jsonl", Line("a", "A, retitled"), Line("c", "C"), Line("d", "D"));

        // A dry run names what would go and writes nothing.
        (exit, var output, error) = await Cli("import-items", "--file", next, "--prune", "--prune-prefix", prefix, "--dry-run");
        Assert.True(exit == 0, error);
        Assert.Contains($"holds 3 items; the cluster holds 1 items whose id starts with '{prefix}' that it does not, which --prune would delete:", output);
        Assert.Contains($"  {prefix}b", output);
        Assert.Equal(System.Net.HttpStatusCode.OK, await StatusOf($"/items/{prefix}b"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, await StatusOf($"/items/{prefix}d"));
        // Without a prefix it would take the rest of the catalogue too.
        (exit, output, error) = await Cli("import-items", "--file", next, "--prune", "--dry-run");
        Assert.True(exit == 0, error);
        var whole = System.Text.RegularExpressions.Regex.Match(output, @"the cluster holds ([\d,]+) items that it does not");
        Assert.True(whole.Success, output);
        Assert.True(int.Parse(whole.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture) > SmallCatalogue.Movies, output);
        Assert.Equal(System.Net.HttpStatusCode.OK, await StatusOf("/items/5"));

        (exit, output, error) = await Cli("import-items", "--file", next, "--prune", "--prune-prefix", prefix);
        Assert.True(exit == 0, error);
        Assert.Contains("3 items written", output);
        Assert.Contains($"1 items whose id starts with '{prefix}' the file does not hold deleted", output);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, await StatusOf($"/items/{prefix}b"));
        Assert.Equal("A, retitled", (await cluster.GetJsonAsync<JsonElement>($"/items/{prefix}a")).GetProperty("title").GetString());
        Assert.Equal(System.Net.HttpStatusCode.OK, await StatusOf($"/items/{prefix}d"));
        Assert.Equal(System.Net.HttpStatusCode.OK, await StatusOf("/items/5"));

        // A second run finds nothing more to delete; the options that only go with --prune are refused without it.
        (exit, output, error) = await Cli("import-items", "--file", next, "--prune", "--prune-prefix", prefix);
        Assert.True(exit == 0, error);
        Assert.Contains("0 items whose id starts with", output);
        (exit, _, error) = await Cli("import-items", "--file", next, "--dry-run");
        Assert.Equal(1, exit);
        Assert.Contains("--dry-run goes with --prune", error);
        using (await cluster.Http.PostAsJsonAsync("/items/delete", new[] { $"{prefix}a", $"{prefix}c", $"{prefix}d" })) { }
    }

    private async Task<System.Net.HttpStatusCode> StatusOf(string path)
    {
        using var response = await cluster.Http.GetAsync(path);
        return response.StatusCode;
    }

    [Fact]
    public async Task A_batch_answered_503_or_not_at_all_is_sent_again_as_it_was()
    {
        var port = LoopbackPorts.Free();
        using var listener = new System.Net.HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var bodies = new List<string>();
        var served = Task.Run(async () =>
        {
            foreach (var status in new[] { 503, 200, 200 })
            {
                var context = await listener.GetContextAsync();
                using (var reader = new StreamReader(context.Request.InputStream)) bodies.Add(await reader.ReadToEndAsync());
                context.Response.StatusCode = status;
                if (status == 503) context.Response.Headers["Retry-After"] = "1";
                var body = status == 503 ? """{"status":503,"mayHaveBeenWritten":true}"""
                    : bodies.Count == 2 ? """{"accepted":2,"duplicates":0,"users":1,"pendingUsers":0}""" : "<html>Welcome to the proxy</html>";
                await context.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(body));
                context.Response.Close();
            }
        });
        var file = Write("two.csv", EventExportFormat.Header, "u,1,view,2026-01-01T00:00:00Z,e-1,", "u,2,rating,2026-01-01T00:00:01Z,e-2,4.5");
        var (exit, output, error) = await Cli("import-events", "--file", file, "--api", $"http://127.0.0.1:{port}");
        Assert.True(exit == 0, error);
        Assert.Contains("the API answered 503; asking again in 1 s (attempt 2 of 5)", error);
        Assert.Contains("2 stored, 0 already there", output);
        Assert.Equal(2, bodies.Count);
        Assert.Equal(bodies[0], bodies[1]);
        var sent = JsonDocument.Parse(bodies[0]).RootElement;
        Assert.Equal("e-2", sent[1].GetProperty("eventId").GetString());
        Assert.Equal(4.5, sent[1].GetProperty("value").GetDouble());
        Assert.False(sent[0].TryGetProperty("value", out _));

        // An answer that is not the API's (another service on the address): what was stored cannot be told, and it says so.
        (exit, _, error) = await Cli("import-events", "--file", file, "--api", $"http://127.0.0.1:{port}");
        Assert.Equal(1, exit);
        Assert.Contains("answered 200 with what is not the recommender API's answer: <html>Welcome to the proxy</html>", error);
        Assert.Contains("those of lines 2-3 may have been", error);
        await served;

        // Nobody listening: each attempt fails, the command says so and what was stored.
        listener.Stop();
        (exit, _, error) = await Cli("import-events", "--file", file, "--api", $"http://127.0.0.1:{port}", "--attempts", "2");
        Assert.Equal(1, exit);
        Assert.Contains("asking again in 1 s (attempt 2 of 2)", error);
        Assert.Contains("failed 2 times", error);
        Assert.Contains("No events before line 2 were sent; those of lines 2-3 may have been", error);
    }

    private async Task AssertHistoriesAsync(List<(string UserId, string ItemId, string EventType, DateTimeOffset Timestamp, string EventId, double? Value)> events)
    {
        foreach (var user in events.GroupBy(e => e.UserId))
        {
            var history = await cluster.GetJsonAsync<HistoryReply>($"/users/{user.Key}/history");
            Assert.Equal(user.Select(e => e.EventId), history.Events.Select(e => e.EventId));
            Assert.Equal(user.Select(e => e.ItemId), history.Events.Select(e => e.ItemId));
        }
    }

    private string Write(string name, params string[] lines)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    private Task<(int Exit, string Output, string Error)> Cli(string command, params string[] args) => CommandLine.Run(cluster.BaseAddress, [command, .. args]);
}

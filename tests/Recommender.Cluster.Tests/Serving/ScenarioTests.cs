using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Recommender.Abstractions;
using Recommender.Api;
using Recommender.Api.Scenarios;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// Scenarios: named list rules kept in the cluster (PUT /scenarios/{name}) that a list read with scenario=NAME gets.
/// Each list read under a scenario is compared with the same list asked with the rules as query parameters. The
/// catalogue's movies are Drama|Romance (even ids) or Action|Thriller (odd ones).
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class ScenarioTests(ServingCluster cluster)
{
    private sealed record ScenarioReply(string Name, string[] Tag, string[] ExcludeTag, string[] Boost, string[] Cap, string[] CapEach, float? Diversity,
        int? K, bool? IncludeSeen, DateTimeOffset UpdatedAt, DateTimeOffset? ActiveFrom = null, DateTimeOffset? ActiveUntil = null, bool Active = false,
        string[]? Exclude = null, string[]? Pin = null, long? Revision = null, string[]? Slot = null);

    private sealed record ScenariosReply(List<ScenarioReply> Scenarios);

    private sealed record DeletedReply(string Name, bool Deleted);

    private sealed record UsersReply(List<RecommendationsReply> Users);

    private static string NewName() => $"test-{Guid.NewGuid():N}";

    /// <summary>Three lists compared entry by entry.</summary>
    private static readonly IEqualityComparer<(string[], string[], string[])> Lists = EqualityComparer<(string[], string[], string[])>.Create(
        (a, b) => a.Item1.SequenceEqual(b.Item1) && a.Item2.SequenceEqual(b.Item2) && a.Item3.SequenceEqual(b.Item3), _ => 0);

    private async Task<ScenarioReply> Put(string name, string body)
    {
        using var response = await cluster.Http.PutAsync($"/scenarios/{name}", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ScenarioReply>())!;
    }

    /// <summary>The lines of apply-scenarios' output that name a scenario (not the rule lines under them).</summary>
    private static string[] Changed(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith(' ') && !l.StartsWith("the scenarios are", StringComparison.Ordinal))];

    /// <summary>The revision apply-scenarios' last line reports ("the scenarios are [now] at revision N…").</summary>
    private static long ReportedRevision(string output) =>
        long.Parse(System.Text.RegularExpressions.Regex.Match(output, "the scenarios are (?:now )?at revision ([0-9]+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The list of an anonymous session of <paramref name="items"/>.</summary>
    private async Task<List<string>> Session(string[] items, string query)
    {
        using var response = await cluster.Http.PostAsJsonAsync($"/recommendations?{query}", new { items });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.Content.ReadFromJsonAsync<SessionRecommendationsReply>())!.Items.Select(i => i.Id)];
    }

    private async Task<List<string>> User(string query) =>
        [.. (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?{query}")).Items.Select(i => i.Id)];

    private async Task<ProblemReply> Refused(HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.BadRequest)
    {
        Assert.True(response.StatusCode == status, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<ProblemReply>())!;
    }

    [Fact]
    public async Task A_list_read_under_a_scenario_gets_its_rules_and_the_request_wins_where_it_speaks()
    {
        var name = NewName();
        var stored = await Put(name, """{"boost": ["drama:50"], "cap": ["action:2"], "capEach": ["*:4"]}""");
        Assert.Equal(name, stored.Name);
        Assert.Equal((["drama:50"], ["action:2"], ["*:4"]), (stored.Boost, stored.Cap, stored.CapEach), Lists);
        var rules = "boost=drama:50&cap=action:2&capEach=*:4";
        var plain = await User("k=12");
        var underScenario = await User($"k=12&scenario={name}");
        Assert.NotEqual(plain, underScenario);
        Assert.Equal(await User($"k=12&{rules}"), underScenario);
        Assert.Equal(await User($"k=6&offset=6&{rules}"), await User($"k=6&offset=6&scenario={name}"));
        // The request's own boost or cap of a tag replaces the scenario's of that tag; others of both apply.
        var ownBoost = await User($"k=12&scenario={name}&boost=drama:1");
        Assert.Equal(await User("k=12&boost=drama:1&cap=action:2&capEach=*:4"), ownBoost);
        Assert.NotEqual(underScenario, ownBoost);
        Assert.Equal(await User("k=12&boost=drama:50&cap=action:5&capEach=*:4&cap=romance:1"), await User($"k=12&scenario={name}&cap=action:5&cap=romance:1"));
        Assert.Equal(await User("k=12&boost=drama:50&cap=action:2&capEach=*:6"), await User($"k=12&scenario={name}&capEach=*:6"));

        // Its tags give way to the request's; excluded tags of both add up.
        var tagged = NewName();
        await Put(tagged, """{"tag": ["Drama"]}""");
        Assert.Equal(await User("k=10&tag=Drama"), await User($"k=10&scenario={tagged}"));
        Assert.Equal(await User("k=10&tag=Action"), await User($"k=10&scenario={tagged}&tag=Action"));
        Assert.NotEqual(await User("k=10&tag=Drama"), await User("k=10&tag=Action"));
        var excluding = NewName();
        await Put(excluding, """{"excludeTag": ["Thriller"]}""");
        Assert.Equal(await User("k=10&excludeTag=Thriller"), await User($"k=10&scenario={excluding}"));
        Assert.Equal(await User("k=10&excludeTag=Drama&excludeTag=Thriller"), await User($"k=10&scenario={excluding}&excludeTag=Drama"));
        Assert.NotEqual(await User("k=10&excludeTag=Drama"), await User($"k=10&scenario={excluding}&excludeTag=Drama"));

        // Its diversity gives way to the request's, and a diverse scenario's list has no later pages.
        var diverse = NewName();
        await Put(diverse, """{"diversity": 0.5}""");
        Assert.Equal(await User("k=10&diversity=0.5"), await User($"k=10&scenario={diverse}"));
        Assert.Equal(await User("k=10"), await User($"k=10&scenario={diverse}&diversity=0"));
        Assert.Equal(await User("k=10&offset=10"), await User($"k=10&offset=10&scenario={diverse}&diversity=0"));
        var paged = await Refused(await cluster.Http.GetAsync($"/users/5/recommendations?k=10&offset=10&scenario={diverse}"));
        Assert.Contains("no later pages", paged.Errors!["scenario"][0]);

        // Its length and includeSeen give way to the request's: a row of things to have again lists what the user had.
        var again = NewName();
        var storedAgain = await Put(again, """{"k": 5, "includeSeen": true}""");
        Assert.Equal(((int?)5, (bool?)true), (storedAgain.K, storedAgain.IncludeSeen));
        Assert.NotEqual(await User("k=5"), await User("k=5&includeSeen=true"));
        Assert.Equal(await User("k=5&includeSeen=true"), await User($"scenario={again}"));
        Assert.Equal(await User("k=3&includeSeen=true"), await User($"k=3&scenario={again}"));
        Assert.Equal(await User("k=5"), await User($"scenario={again}&includeSeen=false"));
        var whole = NewName();
        await Put(whole, """{"k": 1000}""");
        var deep = await Refused(await cluster.Http.GetAsync($"/users/5/recommendations?offset=10&scenario={whole}"));
        Assert.Contains("offset may be at most 0", deep.Errors!["scenario"][0]);
        Assert.Equal(HttpStatusCode.OK, (await cluster.Http.GetAsync($"/users/5/recommendations?offset=10&k=10&scenario={whole}")).StatusCode);
    }

    [Fact]
    public async Task Sessions_many_users_similar_items_and_the_popular_list_take_a_scenario()
    {
        var name = NewName();
        await Put(name, """{"cap": ["thriller:1"], "boost": ["romance:2"]}""");
        const string rules = "cap=thriller:1&boost=romance:2";
        var items = (await cluster.GetJsonAsync<HistoryReply>("/users/5/history")).Events.Select(e => e.ItemId).Distinct().Take(6).ToArray();
        Assert.Equal(await Session(items, $"k=10&{rules}"), await Session(items, $"k=10&scenario={name}"));
        async Task<List<string>> Similar(string query) => [.. (await cluster.GetJsonAsync<SimilarReply>($"/items/2/similar?{query}")).Items.Select(i => i.Id)];
        Assert.Equal(await Similar($"k=10&{rules}"), await Similar($"k=10&scenario={name}"));
        using (var many = await cluster.Http.PostAsJsonAsync($"/users/recommendations?k=10&scenario={name}", new { users = new[] { "5", "3" } }))
        {
            Assert.Equal(HttpStatusCode.OK, many.StatusCode);
            var lists = (await many.Content.ReadFromJsonAsync<UsersReply>())!.Users;
            Assert.Equal(await User($"k=10&{rules}"), lists[0].Items.Select(i => i.Id));
        }
        await ServingChecks.WhileTheLiveListSettles(async () =>
        {
            var asked = (await cluster.GetJsonAsync<PopularReply>($"/popular?k=10&{rules}")).Items;
            var underScenario = (await cluster.GetJsonAsync<PopularReply>($"/popular?k=10&scenario={name}")).Items;
            var again = (await cluster.GetJsonAsync<PopularReply>($"/popular?k=10&{rules}")).Items;
            Assert.Equal(asked, again);
            Assert.Equal(asked.Select(i => i.Id), underScenario.Select(i => i.Id));
        });
    }

    [Fact]
    public async Task A_scenario_leaves_out_the_items_it_excludes_on_every_list_and_the_requests_own_add_to_them()
    {
        async Task<List<string>> Similar(string query) => [.. (await cluster.GetJsonAsync<SimilarReply>($"/items/2/similar?{query}")).Items.Select(i => i.Id)];
        var (plainUser, plainSimilar) = (await User("k=10"), await Similar("k=10"));
        string[] excluded = [.. new[] { plainUser[0], plainUser[3], plainSimilar[0] }.Distinct()];
        var name = NewName();
        var stored = await Put(name, $$$"""{"exclude": [{{{string.Join(", ", excluded.Select(i => $"\"{i}\""))}}}, "{{{excluded[0]}}}"]}""");
        Assert.Equal(excluded, stored.Exclude);
        var rules = "exclude=" + string.Join(",", excluded);
        var underScenario = await User($"k=10&scenario={name}");
        Assert.Equal(await User($"k=10&{rules}"), underScenario);
        Assert.DoesNotContain(plainUser[0], underScenario);
        Assert.Equal(await Similar($"k=10&{rules}"), await Similar($"k=10&scenario={name}"));
        Assert.DoesNotContain(plainSimilar[0], await Similar($"k=10&scenario={name}"));
        // The request's own add to them.
        Assert.Equal(await User($"k=10&{rules},{plainUser[1]}"), await User($"k=10&scenario={name}&exclude={plainUser[1]}"));
        var items = (await cluster.GetJsonAsync<HistoryReply>("/users/5/history")).Events.Select(e => e.ItemId).Distinct().Take(6).ToArray();
        Assert.Equal(await Session(items, $"k=10&{rules}"), await Session(items, $"k=10&scenario={name}"));
        await ServingChecks.WhileTheLiveListSettles(async () =>
        {
            var asked = (await cluster.GetJsonAsync<PopularReply>($"/popular?k=10&{rules}")).Items;
            var underIt = (await cluster.GetJsonAsync<PopularReply>($"/popular?k=10&scenario={name}")).Items;
            Assert.Equal(asked.Select(i => i.Id), underIt.Select(i => i.Id));
        });

        foreach (var (body, field) in new[] { ("""{"exclude": "1"}""", "exclude"), ("""{"exclude": [" "]}""", "exclude"), ("""{"exclude": [true]}""", "exclude"),
                     ($$"""{"exclude": [{{string.Join(",", Enumerable.Range(0, Limits.MaxScenarioExclude + 1))}}]}""", "exclude") })
        {
            using var response = await cluster.Http.PutAsync($"/scenarios/{name}", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal([field], (await Refused(response)).Errors!.Keys);
        }
        Assert.Equal(excluded, (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{name}")).Exclude);
    }

    [Fact]
    public async Task A_scenario_pins_items_on_every_list_and_a_requests_own_pin_takes_the_item_or_place_it_names()
    {
        var plain = await User("k=1000");
        var (first, second, third) = (plain[40], plain[60], plain[70]);
        var name = NewName();
        var stored = await Put(name, $$$"""{"pin": ["{{{first}}}:1", "{{{second}}}:4"]}""");
        Assert.Equal([$"{first}:1", $"{second}:4"], stored.Pin!);
        var rules = $"pin={first}:1&pin={second}:4";
        var underScenario = await User($"k=10&scenario={name}");
        Assert.Equal([first, .. plain.Where(i => i != first && i != second).Take(2), second], underScenario.Take(4));
        Assert.Equal(await User($"k=10&{rules}"), underScenario);
        // The request's own pin of a place or an item replaces the scenario's; other pins of both add up.
        Assert.Equal(await User($"k=10&pin={third}:1&pin={second}:4"), await User($"k=10&scenario={name}&pin={third}:1"));
        Assert.Equal(await User($"k=10&pin={first}:2&pin={second}:4"), await User($"k=10&scenario={name}&pin={first}:2"));
        Assert.Equal(await User($"k=10&{rules}&pin={third}:7"), await User($"k=10&scenario={name}&pin={third}:7"));
        var many = string.Join("&", plain.Skip(5).Take(Limits.MaxPins - 1).Select((id, i) => $"pin={id}:{20 + i}"));
        var problem = await Refused(await cluster.Http.GetAsync($"/users/5/recommendations?scenario={name}&{many}"));
        Assert.Contains($"pin with scenario '{name}''s pins makes {Limits.MaxPins + 1}", problem.Errors!["scenario"][0]);
        async Task<List<string>> Similar(string query) => [.. (await cluster.GetJsonAsync<SimilarReply>($"/items/2/similar?{query}")).Items.Select(i => i.Id)];
        Assert.Equal(await Similar($"k=10&{rules}"), await Similar($"k=10&scenario={name}"));
        // A scenario's slots: stored, applied, a request's slot of the same place replacing it, with caps beside them.
        var slotted = NewName();
        Assert.Equal(["drama:3", "action:5"], (await Put(slotted, """{"slot": ["drama:3", "action:5"]}""")).Slot!);
        Assert.Equal(await User("k=10&slot=drama:3&slot=action:5"), await User($"k=10&scenario={slotted}"));
        Assert.Equal(await User("k=10&slot=romance:3&slot=action:5"), await User($"k=10&scenario={slotted}&slot=romance:3"));
        Assert.Equal(await User("k=10&slot=drama:3&slot=action:5&cap=drama:1"), await User($"k=10&scenario={slotted}&cap=drama:1"));
        var capped = NewName();
        Assert.Equal(["*:2"], (await Put(capped, """{"slot": ["drama:3"], "capEach": ["*:2"]}""")).CapEach);
        Assert.Equal(await User("k=10&slot=drama:3&capEach=*:2"), await User($"k=10&scenario={capped}"));
        // Beside diversity, its own or the request's, the slots hold.
        var diverse = NewName();
        await Put(diverse, """{"slot": ["drama:3"], "diversity": 0.4}""");
        Assert.Equal(await User("k=10&slot=drama:3&diversity=0.4"), await User($"k=10&scenario={diverse}"));
        Assert.Equal(await User("k=10&slot=drama:3&slot=action:5&diversity=0.6"), await User($"k=10&scenario={slotted}&diversity=0.6"));
        Assert.Equal(["slot"], (await Refused(await Send(HttpMethod.Put, $"/scenarios/{NewName()}", """{"slot": ["drama"]}"""))).Errors!.Keys);

        // An item the scenario excludes is named as excluded when the request pins it.
        var excluding = NewName();
        await Put(excluding, $$$"""{"exclude": ["{{{third}}}"]}""");
        Assert.Equal([new(third, 3, "excluded")],
            (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&scenario={excluding}&pin={third}:3")).UnplacedPins!);

        // A dry run of a file shows the pins each scenario would have.
        var file = Path.Combine(Path.GetTempPath(), $"scenarios-{Guid.NewGuid():N}.json");
        try
        {
            await File.WriteAllTextAsync(file, $$$"""{"{{{name}}}": {"pin": ["{{{second}}}:2"]}}""");
            var (exit, output, error) = await CommandLine.Run(cluster.BaseAddress, ["apply-scenarios", "--file", file, "--dry-run"]);
            Assert.True(exit == 0, error);
            Assert.Contains($"  pin: [{first}:1, {second}:4] -> [{second}:2]\n", output.ReplaceLineEndings("\n"));
        }
        finally
        {
            File.Delete(file);
        }

        foreach (var body in new[] { """{"pin": "1:1"}""", """{"pin": ["1:0"]}""", """{"pin": ["1:1", "1:2"]}""", """{"pin": ["1:1", "2:1"]}""", """{"pin": [1]}""",
                     $$"""{"pin": [{{string.Join(",", Enumerable.Range(1, Limits.MaxPins + 1).Select(i => $"\"{i}:{i}\""))}}]}""" })
        {
            using var response = await cluster.Http.PutAsync($"/scenarios/{name}", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(["pin"], (await Refused(response)).Errors!.Keys);
        }
        Assert.Equal([$"{first}:1", $"{second}:4"], (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{name}")).Pin!);
    }

    [Fact]
    public async Task A_change_reaches_a_watching_front_ends_copy_as_soon_as_it_is_stored()
    {
        // A front end's copy whose clock stands still: it never reads the scenarios again for its age, so only the watch
        // can bring it a change (well before the watch's renewal, which would read them too).
        var grains = cluster.Cluster.Client;
        var copy = new ScenarioCache(grains, new FakeTimeProvider(DateTimeOffset.UtcNow), new FrontEndOptions(), NullLogger<ScenarioCache>.Instance);
        using var watch = new ScenarioWatch(grains, copy, NullLogger<ScenarioWatch>.Instance);
        await watch.StartAsync(CancellationToken.None);
        try
        {
            await ServingChecks.Eventually(() => Task.FromResult(copy.Revision >= 0), "the watch's first answer");
            var (name, watched) = (NewName(), copy.Revision);
            await Put(name, """{"k": 3}""");
            await ServingChecks.Eventually(() => Task.FromResult(copy.Revision > watched), "the change reaches the copy", TimeSpan.FromSeconds(5));
            var set = await copy.GetAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
            Assert.Equal(3, set.Scenarios[name].K);
            watched = copy.Revision;
            using (await cluster.Http.DeleteAsync($"/scenarios/{name}")) { }
            await ServingChecks.Eventually(() => Task.FromResult(copy.Revision > watched), "the deletion reaches the copy", TimeSpan.FromSeconds(5));
            Assert.False((await copy.GetAsync(TimeSpan.FromSeconds(10), CancellationToken.None)).Scenarios.ContainsKey(name));
        }
        finally
        {
            await watch.StopAsync(CancellationToken.None);
        }
        // Stopping ends the watch cleanly (a fault here would stop the front end's host).
        Assert.True(watch.ExecuteTask!.IsCompletedSuccessfully, watch.ExecuteTask.Exception?.ToString());
    }

    [Fact]
    public async Task Scenarios_are_listed_replaced_and_deleted_and_a_list_naming_one_that_is_not_there_is_refused()
    {
        var name = NewName();
        await Put(name, """{"capEach": ["brand::2", "*:5"], "excludeTag": ["kids"], "diversity": 0.25}""");
        var listed = (await cluster.GetJsonAsync<ScenariosReply>("/scenarios")).Scenarios.Single(s => s.Name == name);
        Assert.Equal((["brand::2", "*:5"], ["kids"], []), (listed.CapEach, listed.ExcludeTag, listed.Boost), Lists);
        Assert.Equal(0.25f, listed.Diversity);
        // A PUT replaces the whole scenario.
        var replaced = await Put(name, """{"boost": ["sale:1.5"]}""");
        Assert.Equal((["sale:1.5"], [], []), (replaced.Boost, replaced.CapEach, replaced.ExcludeTag), Lists);
        Assert.Null(replaced.Diversity);
        var read = await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{name}");
        Assert.Equal((replaced.Boost, replaced.Cap, replaced.CapEach), (read.Boost, read.Cap, read.CapEach), Lists);
        Assert.Equal(replaced.UpdatedAt, read.UpdatedAt);

        Assert.Equal(new DeletedReply(name, true), await (await cluster.Http.DeleteAsync($"/scenarios/{name}")).Content.ReadFromJsonAsync<DeletedReply>());
        Assert.Equal(new DeletedReply(name, false), await (await cluster.Http.DeleteAsync($"/scenarios/{name}")).Content.ReadFromJsonAsync<DeletedReply>());
        Assert.Contains("is not defined", (await Refused(await cluster.Http.GetAsync($"/scenarios/{name}"), HttpStatusCode.NotFound)).Errors!["name"][0]);
        foreach (var path in new[] { "/users/5/recommendations", "/items/2/similar", "/popular" })
        {
            var problem = await Refused(await cluster.Http.GetAsync($"{path}?scenario={name}"));
            Assert.Equal(["scenario"], problem.Errors!.Keys);
            Assert.Contains($"Scenario '{name}' is not defined", problem.Errors["scenario"][0]);
            Assert.Equal(["scenario"], (await Refused(await cluster.Http.GetAsync($"{path}?scenario=a%20b"))).Errors!.Keys);
            // Other parameters' problems are named beside it.
            Assert.Equal(["k", "scenario"], (await Refused(await cluster.Http.GetAsync($"{path}?scenario=a%20b&k=0"))).Errors!.Keys.Order());
        }
    }

    [Fact]
    public async Task A_bad_scenario_is_a_problem_naming_its_field_and_stores_nothing()
    {
        var name = NewName();
        (string Body, string Field)[] bad =
        [
            ("[]", "body"), ("\"x\"", "body"), ("""{"boosts": ["sale:2"]}""", "boosts"), ("""{"boost": ["sale"]}""", "boost"), ("""{"boost": "sale:2"}""", "boost"),
            ("""{"cap": ["x:0"]}""", "cap"), ("""{"capEach": [":2"]}""", "capEach"), ("""{"tag": [1]}""", "tag"), ("""{"excludeTag": [" "]}""", "excludeTag"),
            ("""{"diversity": 2}""", "diversity"), ("""{"diversity": "0.3"}""", "diversity"), ("""{"cap": ["a:1", "A:2"]}""", "cap"),
            ("""{"k": 0}""", "k"), ("""{"k": 1001}""", "k"), ("""{"k": "5"}""", "k"), ("""{"k": 1.5}""", "k"), ("""{"includeSeen": "yes"}""", "includeSeen"),
            ("{" + string.Join(",", new[] { "\"cap\"", "\"capEach\"" }.Select(f => $"{f}: [{string.Join(",", Enumerable.Range(0, 11).Select(i => $"\"t{i}:1\""))}]")) + "}", "capEach"),
        ];
        foreach (var (body, field) in bad)
        {
            using var response = await cluster.Http.PutAsync($"/scenarios/{name}", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{body}: {response.StatusCode}");
            var problem = await Refused(response);
            Assert.True(problem.Errors!.ContainsKey(field), $"{body}: {string.Join(", ", problem.Errors.Keys)}");
        }
        await Refused(await cluster.Http.GetAsync($"/scenarios/{name}"), HttpStatusCode.NotFound);
        foreach (var badName in new[] { "a%20b", "caf%C3%A9", new string('n', ScenarioNames.MaxLength + 1), "a%2Fb" })
        {
            using var response = await cluster.Http.PutAsync($"/scenarios/{badName}", new StringContent("{}", Encoding.UTF8, "application/json"));
            Assert.Equal(["name"], (await Refused(response)).Errors!.Keys);
        }
        // The rules and the request's own may not pass a limit together.
        var capped = NewName();
        await Put(capped, $$"""{"cap": [{{string.Join(",", Enumerable.Range(0, 15).Select(i => $"\"s{i}:1\""))}}]}""");
        var query = string.Join("&", Enumerable.Range(0, 6).Select(i => $"cap=r{i}:1"));
        var limit = await Refused(await cluster.Http.GetAsync($"/users/5/recommendations?scenario={capped}&{query}"));
        Assert.Contains($"make 21; the limit is {Limits.MaxCaps}", limit.Errors!["scenario"][0]);
        // Five of the request's own and one replacing the scenario's make 20.
        var twenty = string.Join("&", Enumerable.Range(0, 5).Select(i => $"cap=r{i}:1")) + "&cap=S0:2";
        using var within = await cluster.Http.GetAsync($"/users/5/recommendations?scenario={capped}&{twenty}");
        Assert.True(within.StatusCode == HttpStatusCode.OK, await within.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_apply_scenarios_command_makes_the_clusters_scenarios_what_a_file_says()
    {
        var file = Path.Combine(Path.GetTempPath(), $"scenarios-{Guid.NewGuid():N}.json");
        try
        {
            var (home, cart) = (NewName(), NewName());
            await File.WriteAllTextAsync(file, $$$"""{"{{{home}}}": {"boost": ["drama:50"], "capEach": ["*:4"], "fresh": "6h:2"}, "{{{cart}}}": {"k": 4}}""");
            var (exit, output, error) = await CommandLine.Run(cluster.BaseAddress, ["apply-scenarios", "--file", file]);
            Assert.True(exit == 0, error);
            Assert.Equal(new[] { $"put {home} (new)", $"put {cart} (new)" }.Order(StringComparer.Ordinal), Changed(output));
            Assert.Contains("  boost: [drama:50]\n  fresh: \"6h:2\"\n  capEach: [*:4]\n", output.ReplaceLineEndings("\n"));
            Assert.Equal(await User("k=12&boost=drama:50&capEach=*:4&fresh=6h:2"), await User($"k=12&scenario={home}"));
            Assert.Equal(4, (await User($"scenario={cart}")).Count);
            // The same file again changes nothing: each scenario keeps its time of change.
            var stored = await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{home}");
            (exit, output, error) = await CommandLine.Run(cluster.BaseAddress, ["apply-scenarios", "--file", file]);
            Assert.True(exit == 0, error);
            Assert.Equal(new[] { $"unchanged {home}", $"unchanged {cart}" }.Order(StringComparer.Ordinal), Changed(output));
            Assert.Equal(stored.UpdatedAt, (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{home}")).UpdatedAt);

            // With --prune the file is the whole set: a scenario it no longer names goes (so do other tests' scenarios).
            await File.WriteAllTextAsync(file, $$$"""{"{{{home}}}": {"cap": ["action:1"]}}""");
            (exit, output, error) = await CommandLine.Run(cluster.BaseAddress, ["apply-scenarios", "--file", file, "--prune", "--dry-run"]);
            Assert.True(exit == 0, error);
            // A dry run shows what each rule would become.
            Assert.Contains($"would put {home}\n  boost: [drama:50] -> -\n  fresh: \"6h:2\" -> -\n  cap: - -> [action:1]\n  capEach: [*:4] -> -\n", output.ReplaceLineEndings("\n"));
            Assert.Contains($"would delete {cart}", output);
            Assert.Equal(4, (await User($"scenario={cart}")).Count);
            (exit, output, error) = await CommandLine.Run(cluster.BaseAddress, ["apply-scenarios", "--file", file, "--prune"]);
            Assert.True(exit == 0, error);
            Assert.Contains($"deleted {cart}", output);
            Assert.Equal([home], (await cluster.GetJsonAsync<ScenariosReply>("/scenarios")).Scenarios.Select(s => s.Name));
            Assert.Equal(await User("k=12&cap=action:1"), await User($"k=12&scenario={home}"));

            // A rule the cluster refuses is named, and no scenario of the file is changed, before or after it.
            var (first, bad) = (NewName(), NewName());
            await File.WriteAllTextAsync(file, $$$"""{"{{{first}}}": {}, "{{{bad}}}": {"cap": ["action"]}, "{{{home}}}": {}}""");
            (exit, _, error) = await CommandLine.Run(cluster.BaseAddress, ["apply-scenarios", "--file", file, "--prune"]);
            Assert.Equal(1, exit);
            Assert.Contains($"scenarios answered 400: {bad}.cap: cap 'action' has no count", error);
            Assert.Contains("No scenario was changed", error);
            Assert.Equal([home], (await cluster.GetJsonAsync<ScenariosReply>("/scenarios")).Scenarios.Select(s => s.Name));
            Assert.Equal(["action:1"], (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{home}")).Cap);
            await File.WriteAllTextAsync(file, $$$"""{"{{{first}}}": {}}""");
            (exit, _, error) = await CommandLine.Run(cluster.BaseAddress, ["apply-scenarios", "--file", file]);
            Assert.True(exit == 0, error);

            // A file that is not an object of objects is refused before anything is sent.
            foreach (var wrong in new[] { "[]", "{\"a\": []}", "{\"a\": {}, \"a\": {}}", "{" })
            {
                await File.WriteAllTextAsync(file, wrong);
                (exit, _, error) = await CommandLine.Run(cluster.BaseAddress, ["apply-scenarios", "--file", file, "--prune"]);
                Assert.Equal(1, exit);
                Assert.Contains(file, error);
            }
            Assert.Equal(2, (await cluster.GetJsonAsync<ScenariosReply>("/scenarios")).Scenarios.Count);

            // export-scenarios writes the cluster's scenarios as such a file: applied again, it changes nothing.
            using (var changed = await Send(HttpMethod.Patch, "/scenarios", $$$"""{"{{{first}}}": {"boost": ["drama:2.5"], "capEach": ["*:3"], "diversity": 0.25, "k": 7, "includeSeen": true, "excludeTag": ["Horror"]}}"""))
                Assert.True(changed.IsSuccessStatusCode, await changed.Content.ReadAsStringAsync());
            (exit, output, error) = await CommandLine.Run(cluster.BaseAddress, ["export-scenarios", "--out", file]);
            Assert.True(exit == 0, error);
            Assert.Contains($"wrote 2 scenarios to {file} at revision {(await cluster.GetJsonAsync<RevisionReply>("/scenarios")).Revision} (apply-scenarios --if-revision", output);
            using (var exported = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(file)))
            {
                Assert.Equal(new[] { first, home }.Order(StringComparer.Ordinal), exported.RootElement.EnumerateObject().Select(p => p.Name));
                Assert.Equal("""{"cap":["action:1"]}""", exported.RootElement.GetProperty(home).GetRawText().Replace(" ", "").Replace("\n", ""));
                Assert.Equal(["boost", "capEach", "diversity", "excludeTag", "includeSeen", "k"], exported.RootElement.GetProperty(first).EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            }
            (exit, output, error) = await CommandLine.Run(cluster.BaseAddress, ["apply-scenarios", "--file", file, "--prune"]);
            Assert.True(exit == 0, error);
            Assert.Equal(new[] { $"unchanged {first}", $"unchanged {home}" }.Order(StringComparer.Ordinal), Changed(output));
        }
        finally
        {
            File.Delete(file);
        }
    }

    private async Task<HttpResponseMessage> Send(HttpMethod method, string path, string body) =>
        await cluster.Http.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") });

    private sealed record AppliedReply(bool DryRun, string[] Put, string[] Unchanged, string[] Deleted, long Revision = -1);

    private sealed record RevisionReply(long Revision);

    /// <summary>A request with one condition header, sent as given (so that a malformed one reaches the API).</summary>
    private async Task<HttpResponseMessage> Conditional(HttpMethod method, string path, string? body, string header, string value)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        Assert.True(request.Headers.TryAddWithoutValidation(header, value));
        return await cluster.Http.SendAsync(request);
    }

    private static string Tag(long revision) => $"\"{revision}\"";

    /// <summary>An HTTP/1.1 request read off a socket: its method, path, If-Match and body (of its Content-Length).</summary>
    private static async Task<(string Method, string Path, string? IfMatch, string Body)> ReadRequest(Stream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await stream.ReadAsync(one) == 0) throw new EndOfStreamException("The request ended inside its headers.");
            head.Add(one[0]);
        }
        var lines = Encoding.ASCII.GetString([.. head]).Split("\r\n");
        var headers = lines.Skip(1).Where(l => l.Contains(':')).ToDictionary(l => l[..l.IndexOf(':')].Trim(), l => l[(l.IndexOf(':') + 1)..].Trim(), StringComparer.OrdinalIgnoreCase);
        var body = new byte[int.Parse(headers.GetValueOrDefault("Content-Length", "0"), System.Globalization.CultureInfo.InvariantCulture)];
        await stream.ReadExactlyAsync(body);
        var start = lines[0].Split(' ');
        return (start[0], start[1], headers.GetValueOrDefault("If-Match"), Encoding.UTF8.GetString(body));
    }

    private sealed record ChangeReply(string Name, ScenarioReply? Before, ScenarioReply? After);

    private sealed record ChangesReply(ChangeReply[] Changes);

    private async Task<AppliedReply> Applied(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<AppliedReply>())!;
    }

    private static readonly IEqualityComparer<AppliedReply> SameChanges = EqualityComparer<AppliedReply>.Create(
        (a, b) => a!.DryRun == b!.DryRun && a.Put.SequenceEqual(b.Put) && a.Unchanged.SequenceEqual(b.Unchanged) && a.Deleted.SequenceEqual(b.Deleted), _ => 0);

    private async Task<List<string>> Names() => [.. (await cluster.GetJsonAsync<ScenariosReply>("/scenarios")).Scenarios.Select(s => s.Name)];

    [Fact]
    public async Task Several_scenarios_change_in_one_request_and_a_fault_in_any_of_them_changes_none()
    {
        string[] names = [NewName(), NewName(), NewName()];
        Array.Sort(names, StringComparer.Ordinal);
        var (a, b, c) = (names[0], names[1], names[2]);
        await Put(c, "{}");
        // PATCH stores those it names and keeps the rest.
        var applied = await Applied(await Send(HttpMethod.Patch, "/scenarios", $$$"""{"{{{b}}}": {"k": 3}, "{{{a}}}": {"cap": ["action:1"]}}"""));
        Assert.Equal(new AppliedReply(false, [a, b], [], []), applied, SameChanges);
        Assert.Equal(await User("k=10&cap=action:1"), await User($"k=10&scenario={a}"));
        Assert.Equal(3, (await User($"scenario={b}")).Count);
        Assert.Contains(c, await Names());

        // A dry run says what would change (null deletes), and changes nothing.
        var before = await Names();
        applied = await Applied(await Send(HttpMethod.Patch, "/scenarios?dryRun=true", $$$"""{"{{{a}}}": null, "{{{b}}}": {"k": 3}, "{{{c}}}": {"k": 2}}"""));
        Assert.Equal(new AppliedReply(true, [c], [b], [a]), applied, SameChanges);
        using (var described = await Send(HttpMethod.Patch, "/scenarios?dryRun=true", $$$"""{"{{{a}}}": null, "{{{c}}}": {"k": 2}}"""))
        {
            var changes = (await described.Content.ReadFromJsonAsync<ChangesReply>())!.Changes;
            Assert.Equal([(c, null, 2), (a, null, null)], changes.Select(x => (x.Name, x.Before!.K, x.After?.K)));
            Assert.Equal(["action:1"], changes[1].Before!.Cap);
        }
        Assert.Equal(before, await Names());
        Assert.Null((await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{c}")).K);

        // A fault anywhere in the body is named, and nothing is changed.
        var refused = await Refused(await Send(HttpMethod.Patch, "/scenarios", $$$"""{"{{{a}}}": null, "no spaces": {}, "{{{b}}}": {"cap": ["action"]}, "{{{c}}}": []}"""));
        Assert.Contains("no spaces", refused.Errors!["name"][0]);
        Assert.Contains("cap 'action' has no count", refused.Errors[$"{b}.cap"][0]);
        Assert.Contains("must be an object of list rules", refused.Errors[c][0]);
        Assert.Equal(before, await Names());
        Assert.Equal(3, (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{b}")).K);
        foreach (var wrong in new[] { "[]", "{\"x\": 1}" })
            await Refused(await Send(HttpMethod.Patch, "/scenarios", wrong));
        Assert.Contains("dry", (await Refused(await Send(HttpMethod.Patch, "/scenarios?dry=true", "{}"))).Errors!.Keys.Single());
        Assert.Contains("dryRun", (await Refused(await Send(HttpMethod.Patch, "/scenarios?dryRun=maybe", "{}"))).Errors!.Keys.Single());

        // Null deletes a scenario; the lists that name it are then refused.
        applied = await Applied(await Send(HttpMethod.Patch, "/scenarios", $$$"""{"{{{a}}}": null}"""));
        Assert.Equal(new AppliedReply(false, [], [], [a]), applied, SameChanges);
        Assert.Equal(HttpStatusCode.NotFound, (await cluster.Http.GetAsync($"/scenarios/{a}")).StatusCode);
        await Refused(await cluster.Http.GetAsync($"/users/5/recommendations?scenario={a}"));

        // PUT makes the set exactly the body's: others are deleted; null is not a scenario there.
        Assert.Contains("must be an object of list rules", (await Refused(await Send(HttpMethod.Put, "/scenarios", $$$"""{"{{{b}}}": null}"""))).Errors![b][0]);
        applied = await Applied(await Send(HttpMethod.Put, "/scenarios", $$$"""{"{{{b}}}": {"k": 3}, "{{{c}}}": {"k": 2}}"""));
        Assert.Equal([c], applied.Put);
        Assert.Equal([b], applied.Unchanged);
        Assert.DoesNotContain(b, applied.Deleted);
        Assert.Equal([b, c], await Names());
        Assert.Equal(2, (await User($"scenario={c}")).Count);

        // A change that would keep more than the cluster may is refused whole.
        var many = string.Join(", ", Enumerable.Range(0, Limits.MaxScenarios - 1).Select(_ => $"\"{NewName()}\": {{}}"));
        var tooMany = await Refused(await Send(HttpMethod.Patch, "/scenarios", $"{{{many}}}"), HttpStatusCode.Conflict);
        Assert.Contains($"more than {Limits.MaxScenarios} scenarios", tooMany.Errors!["body"][0]);
        Assert.Equal([b, c], await Names());
        Assert.Equal(new AppliedReply(false, [], [], [b, c]), await Applied(await Send(HttpMethod.Put, "/scenarios", "{}")), SameChanges);
    }

    [Fact]
    public async Task A_change_sent_with_If_Match_is_made_only_while_the_scenarios_are_at_the_revision_it_names()
    {
        var (name, other) = (NewName(), NewName());
        await Put(name, """{"k": 3}""");
        long revision;
        using (var listed = await cluster.Http.GetAsync("/scenarios"))
        {
            revision = (await listed.Content.ReadFromJsonAsync<RevisionReply>())!.Revision;
            Assert.Equal(Tag(revision), listed.Headers.ETag!.Tag);
        }
        using (var one = await cluster.Http.GetAsync($"/scenarios/{name}")) Assert.Equal(Tag(revision), one.Headers.ETag!.Tag);
        // A read sent with the tag it holds is answered 304 without a body (If-None-Match compares weakly), one with another tag in full.
        foreach (var (path, held) in new[] { ("/scenarios", Tag(revision)), ($"/scenarios/{name}", $"W/{Tag(revision)}"), ("/scenarios", $"\"x\", {Tag(revision)}") })
        {
            using var notModified = await Conditional(HttpMethod.Get, path, null, "If-None-Match", held);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
            Assert.Equal(Tag(revision), notModified.Headers.ETag!.Tag);
            Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        }
        using (var changed = await Conditional(HttpMethod.Get, "/scenarios", null, "If-None-Match", Tag(revision - 1)))
            Assert.Equal(revision, (await changed.Content.ReadFromJsonAsync<RevisionReply>())!.Revision);

        // A change at that revision is made and moves it on; the same tag again is refused (412), naming both revisions, and changes nothing.
        using (var made = await Conditional(HttpMethod.Patch, "/scenarios", $$$"""{"{{{name}}}": {"k": 4}}""", "If-Match", Tag(revision)))
        {
            Assert.Equal(revision + 1, (await Applied(made)).Revision);
            Assert.Equal(Tag(revision + 1), made.Headers.ETag!.Tag);
        }
        using (var stale = await Conditional(HttpMethod.Patch, "/scenarios", $$$"""{"{{{name}}}": {"k": 5}}""", "If-Match", Tag(revision)))
        {
            var problem = await Refused(stale, HttpStatusCode.PreconditionFailed);
            Assert.Equal(["If-Match"], problem.Errors!.Keys);
            Assert.Contains($"If-Match names revision {revision} of the scenarios, and the scenarios are at revision {revision + 1}", problem.Errors["If-Match"][0]);
            Assert.Equal(Tag(revision + 1), stale.Headers.ETag!.Tag);
        }
        // So are a dry run, PUT /scenarios, and PUT and DELETE of one scenario with it, and a weak or unknown tag.
        foreach (var (method, path, body, tag) in new (HttpMethod, string, string?, string)[]
        {
            (HttpMethod.Patch, "/scenarios?dryRun=true", $$$"""{"{{{name}}}": {}}""", Tag(revision)), (HttpMethod.Put, "/scenarios", "{}", Tag(revision)),
            (HttpMethod.Put, $"/scenarios/{name}", "{}", Tag(revision)), (HttpMethod.Delete, $"/scenarios/{name}", null, Tag(revision)),
            (HttpMethod.Put, $"/scenarios/{name}", "{}", $"W/{Tag(revision + 1)}"), (HttpMethod.Put, $"/scenarios/{name}", "{}", "\"one\""),
        })
            Assert.Equal(["If-Match"], (await Refused(await Conditional(method, path, body, "If-Match", tag), HttpStatusCode.PreconditionFailed)).Errors!.Keys);
        Assert.Equal(4, (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{name}")).K);
        Assert.Contains(name, await Names());
        // Any one of several tags will do.
        using (var put = await Conditional(HttpMethod.Put, $"/scenarios/{name}", """{"k": 6}""", "If-Match", $"{Tag(revision)}, {Tag(revision + 1)}"))
        {
            Assert.Equal(6, (await put.Content.ReadFromJsonAsync<ScenarioReply>())!.K);
            Assert.Equal(Tag(revision + 2), put.Headers.ETag!.Tag);
        }

        // If-Match: * asks that the scenario exist; If-None-Match: * that it not (create only).
        Assert.Contains($"asks that scenario '{other}' exist, and it does not",
            (await Refused(await Conditional(HttpMethod.Put, $"/scenarios/{other}", "{}", "If-Match", "*"), HttpStatusCode.PreconditionFailed)).Errors!["If-Match"][0]);
        await Refused(await Conditional(HttpMethod.Delete, $"/scenarios/{other}", null, "If-Match", "*"), HttpStatusCode.PreconditionFailed);
        using (var created = await Conditional(HttpMethod.Put, $"/scenarios/{other}", """{"k": 2}""", "If-None-Match", "*"))
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Contains($"asks that scenario '{other}' not exist yet, and it does",
            (await Refused(await Conditional(HttpMethod.Put, $"/scenarios/{other}", """{"k": 9}""", "If-None-Match", "*"), HttpStatusCode.PreconditionFailed)).Errors!["If-None-Match"][0]);
        Assert.Equal(2, (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{other}")).K);
        using (var deleted = await Conditional(HttpMethod.Delete, $"/scenarios/{other}", null, "If-Match", "*"))
            Assert.True((await deleted.Content.ReadFromJsonAsync<DeletedReply>())!.Deleted);

        // A malformed condition, or one the request cannot take, is named (400) and changes nothing.
        var current = (await cluster.GetJsonAsync<RevisionReply>("/scenarios")).Revision;
        foreach (var (method, path, body, header, value) in new (HttpMethod, string, string?, string, string)[]
        {
            (HttpMethod.Patch, "/scenarios", "{}", "If-Match", $"{current}"),
            (HttpMethod.Put, $"/scenarios/{name}", "{}", "If-Match", $"*, {Tag(current)}"),
            (HttpMethod.Patch, "/scenarios", "{}", "If-None-Match", "*"),
            (HttpMethod.Delete, $"/scenarios/{name}", null, "If-None-Match", "*"),
            (HttpMethod.Put, $"/scenarios/{name}", "{}", "If-None-Match", Tag(current)),
            (HttpMethod.Get, "/scenarios", null, "If-None-Match", "\"unclosed"),
        })
            Assert.Equal([header], (await Refused(await Conditional(method, path, body, header, value))).Errors!.Keys);
        Assert.Equal(current, (await cluster.GetJsonAsync<RevisionReply>("/scenarios")).Revision);
        Assert.Equal(6, (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{name}")).K);
    }

    [Fact]
    public async Task A_change_of_some_scenarios_is_conditional_on_those_alone_and_one_of_the_whole_set_on_the_set()
    {
        var (name, other, gone) = (NewName(), NewName(), NewName());
        await Put(name, """{"k": 3}""");
        await Put(gone, "{}");
        long stored;
        using (var one = await cluster.Http.GetAsync($"/scenarios/{name}"))
        {
            stored = (await one.Content.ReadFromJsonAsync<ScenarioReply>())!.Revision!.Value;
            Assert.Equal(Tag(stored), one.Headers.ETag!.Tag);
        }
        // Another scenario is stored: the set's revision moves on, this one's tag stays.
        await Put(other, """{"k": 5}""");
        var revision = (await cluster.GetJsonAsync<RevisionReply>("/scenarios")).Revision;
        Assert.True(revision > stored);
        Assert.Equal(stored, Assert.Single((await cluster.GetJsonAsync<ScenariosReply>("/scenarios")).Scenarios, s => s.Name == name).Revision);
        // A poll with its tag, or with the set's revision read since, is 304; with a revision from before it was stored, or on the whole set, it is not.
        foreach (var held in new[] { Tag(stored), Tag(revision) })
        {
            using var notModified = await Conditional(HttpMethod.Get, $"/scenarios/{name}", null, "If-None-Match", held);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
            Assert.Equal(Tag(stored), notModified.Headers.ETag!.Tag);
        }
        using (var earlier = await Conditional(HttpMethod.Get, $"/scenarios/{name}", null, "If-None-Match", Tag(stored - 1)))
            Assert.Equal(HttpStatusCode.OK, earlier.StatusCode);
        using (var set = await Conditional(HttpMethod.Get, "/scenarios", null, "If-None-Match", Tag(stored)))
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);

        // A change of it with the tag read before the other change is made; the same tag again is refused, naming when it changed.
        using (var made = await Conditional(HttpMethod.Put, $"/scenarios/{name}", """{"k": 4}""", "If-Match", Tag(stored)))
        {
            Assert.Equal(HttpStatusCode.OK, made.StatusCode);
            Assert.Equal(Tag(revision + 1), made.Headers.ETag!.Tag);
        }
        foreach (var (method, body) in new (HttpMethod, string?)[] { (HttpMethod.Put, """{"k": 7}"""), (HttpMethod.Delete, null) })
        {
            var problem = await Refused(await Conditional(method, $"/scenarios/{name}", body, "If-Match", Tag(stored)), HttpStatusCode.PreconditionFailed);
            Assert.Contains($"scenario '{name}' was stored at revision {revision + 1}, after it", problem.Errors!["If-Match"][0]);
        }
        Assert.Equal(4, (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{name}")).K);

        // PATCH: refused when a scenario it names changed since the revision, made when only others did.
        var patched = await Refused(await Conditional(HttpMethod.Patch, "/scenarios", $$$"""{"{{{other}}}": {"k": 8}, "{{{name}}}": {"k": 8}}""", "If-Match", Tag(revision)),
            HttpStatusCode.PreconditionFailed);
        Assert.Contains($"scenario '{name}' was stored at revision {revision + 1}, after it", patched.Errors!["If-Match"][0]);
        using (var made = await Conditional(HttpMethod.Patch, "/scenarios", $$$"""{"{{{other}}}": {"k": 6}}""", "If-Match", Tag(revision)))
            Assert.Equal(revision + 2, (await Applied(made)).Revision);
        Assert.Equal([4, 6], [(await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{name}")).K, (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{other}")).K]);
        // PUT of the whole set is conditional on the whole set.
        await Refused(await Conditional(HttpMethod.Put, "/scenarios", "{}", "If-Match", Tag(revision + 1)), HttpStatusCode.PreconditionFailed);
        Assert.Contains(name, await Names());

        // A deleted scenario: a change with a tag from before the deletion is refused, one from the deletion on is made.
        Assert.True((await (await cluster.Http.DeleteAsync($"/scenarios/{gone}")).Content.ReadFromJsonAsync<DeletedReply>())!.Deleted);
        var deletion = (await cluster.GetJsonAsync<RevisionReply>("/scenarios")).Revision;
        await Refused(await Conditional(HttpMethod.Put, $"/scenarios/{gone}", "{}", "If-Match", Tag(deletion - 1)), HttpStatusCode.PreconditionFailed);
        Assert.DoesNotContain(gone, await Names());
        using (var again = await Conditional(HttpMethod.Put, $"/scenarios/{gone}", """{"k": 2}""", "If-Match", Tag(deletion)))
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(deletion + 1, (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{gone}")).Revision);
    }

    [Fact]
    public async Task Of_several_changes_sent_at_once_against_one_revision_exactly_one_is_made()
    {
        var name = NewName();
        await Put(name, """{"k": 1}""");
        var revision = (await cluster.GetJsonAsync<RevisionReply>("/scenarios")).Revision;
        var sent = await Task.WhenAll(Enumerable.Range(2, 8).Select(async k =>
        {
            using var response = await Conditional(HttpMethod.Patch, "/scenarios", $$$"""{"{{{name}}}": {"k": {{{k}}}}}""", "If-Match", Tag(revision));
            return (k, response.StatusCode);
        }));
        var made = Assert.Single(sent, s => s.StatusCode == HttpStatusCode.OK);
        Assert.All(sent.Where(s => s != made), s => Assert.Equal(HttpStatusCode.PreconditionFailed, s.StatusCode));
        Assert.Equal(made.k, (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{name}")).K);
        Assert.Equal(revision + 1, (await cluster.GetJsonAsync<RevisionReply>("/scenarios")).Revision);
    }

    [Fact]
    public async Task Apply_scenarios_with_a_revision_applies_the_file_only_while_the_scenarios_are_at_it()
    {
        var file = Path.Combine(Path.GetTempPath(), $"scenarios-{Guid.NewGuid():N}.json");
        try
        {
            var name = NewName();
            await File.WriteAllTextAsync(file, $$$"""{"{{{name}}}": {"k": 4}}""");
            var (exit, output, error) = await CommandLine.Run(cluster.BaseAddress, ["apply-scenarios", "--file", file, "--dry-run"]);
            Assert.True(exit == 0, error);
            var reviewed = ReportedRevision(output);
            Assert.Contains($"--if-revision {reviewed} applies this change only while they still are", output);

            // The file's scenario changed since the dry run (stored by another): the file is not applied.
            await Put(name, """{"k": 9}""");
            (exit, _, error) = await CommandLine.Run(cluster.BaseAddress, ["apply-scenarios", "--file", file, "--if-revision", $"{reviewed}"]);
            Assert.Equal(1, exit);
            Assert.Contains("answered 412: If-Match:", error);
            Assert.Contains($"A scenario the file names was changed since revision {reviewed}, and the file was not applied over that change", error);
            Assert.Equal(9, (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{name}")).K);

            // Another scenario changed since the dry run: the file is applied.
            (exit, output, error) = await CommandLine.Run(cluster.BaseAddress, ["apply-scenarios", "--file", file, "--dry-run"]);
            reviewed = ReportedRevision(output);
            await Put(NewName(), "{}");
            (exit, output, error) = await CommandLine.Run(cluster.BaseAddress, ["apply-scenarios", "--file", file, "--if-revision", $"{reviewed}", "--note", "release 1.2 & more"]);
            Assert.True(exit == 0, error);
            Assert.Contains($"put {name}\n  k: 9 -> 4", output.ReplaceLineEndings("\n"));
            Assert.Equal("release 1.2 & more", Assert.Single((await cluster.GetJsonAsync<ScenarioHistoryReply>("/scenario-history?limit=1")).Changes).Note);
            Assert.Equal(reviewed + 2, ReportedRevision(output));
            Assert.Equal(4, (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{name}")).K);
            // With --prune the file would replace the whole set, so any change since stops it.
            (exit, output, error) = await CommandLine.Run(cluster.BaseAddress, ["apply-scenarios", "--file", file, "--prune", "--dry-run"]);
            reviewed = ReportedRevision(output);
            await Put(NewName(), "{}");
            (exit, _, error) = await CommandLine.Run(cluster.BaseAddress, ["apply-scenarios", "--file", file, "--prune", "--if-revision", $"{reviewed}"]);
            Assert.Equal(1, exit);
            Assert.Contains($"The cluster's scenarios were changed since revision {reviewed}, and the file was not applied over that change", error);
            Assert.True((await Names()).Count > 1);

            // An answer lost after the change was made: the repeat is refused (the revision moved on), and the command
            // finds the file applied, by that attempt, rather than failing.
            await File.WriteAllTextAsync(file, $$$"""{"{{{name}}}": {"k": 5}}""");
            var before = (await cluster.GetJsonAsync<RevisionReply>("/scenarios")).Revision;
            List<string> forwarded;
            (exit, output, error, forwarded) = await LosingTheFirstAnswer(["apply-scenarios", "--file", file, "--if-revision", $"{before}"], requests: 3);
            Assert.True(exit == 0, $"{error}\n{string.Join("\n", forwarded)}");
            Assert.Equal([$"PATCH /scenarios {Tag(before)} -> 200", $"PATCH /scenarios {Tag(before)} -> 412", "PATCH /scenarios?dryRun=true  -> 200"], forwarded);
            Assert.Contains($"the scenarios are now at revision {before + 1} and already as the file says", output);
            Assert.Equal(5, (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{name}")).K);

            // Another change between the lost answer and the repeat: whether the lost attempt made the change cannot be told, and the command says so.
            await File.WriteAllTextAsync(file, $$$"""{"{{{name}}}": {"k": 6}}""");
            before = (await cluster.GetJsonAsync<RevisionReply>("/scenarios")).Revision;
            (exit, _, error, forwarded) = await LosingTheFirstAnswer(["apply-scenarios", "--file", file, "--if-revision", $"{before}"], requests: 2,
                between: () => Put(NewName(), "{}"));
            Assert.Equal(1, exit);
            Assert.Equal([$"PATCH /scenarios {Tag(before)} -> 200", $"PATCH /scenarios {Tag(before)} -> 412"], forwarded);
            Assert.Contains($"changed since revision {before}, and the file was not applied over that change", error);
            Assert.Equal(6, (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{name}")).K);

            (exit, _, error) = await CommandLine.Run(cluster.BaseAddress, ["apply-scenarios", "--file", file, "--if-revision", "-1"]);
            Assert.Equal(1, exit);
            Assert.Contains("--if-revision -1 must be 0 or more", error);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// Runs a command against a proxy on loopback that forwards each of <paramref name="requests"/> requests to the API
    /// and loses the first one's answer (the connection closes after the API made the change, before a byte of the
    /// answer); <paramref name="between"/> runs after that first request. Forwarded: each request as "METHOD PATH IF-MATCH -> STATUS".
    /// </summary>
    private async Task<(int Exit, string Output, string Error, List<string> Forwarded)> LosingTheFirstAnswer(string[] args, int requests, Func<Task>? between = null)
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var forwarded = new List<string>();
        var proxy = Task.Run(async () =>
        {
            for (var i = 0; i < requests; i++)
            {
                using var client = await listener.AcceptTcpClientAsync();
                var stream = client.GetStream();
                var (method, path, ifMatch, body) = await ReadRequest(stream);
                using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
                using var answer = await cluster.Http.SendAsync(request);
                forwarded.Add($"{method} {path} {ifMatch} -> {(int)answer.StatusCode}");
                if (i == 0)
                {
                    if (between is not null) await between();
                    continue;
                }
                var content = await answer.Content.ReadAsByteArrayAsync();
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {(int)answer.StatusCode} {answer.ReasonPhrase}\r\nContent-Type: application/json\r\n" +
                    $"Content-Length: {content.Length}\r\nConnection: close\r\n\r\n"));
                await stream.WriteAsync(content);
            }
        });
        var (exit, output, error) = await CommandLine.Run(cluster.BaseAddress, [.. args, "--api", $"http://127.0.0.1:{port}"]);
        listener.Stop();
        await Task.WhenAny(proxy, Task.Delay(TimeSpan.FromSeconds(10)));
        return (exit, output, error, forwarded);
    }

    private sealed record ScenarioHistoryReply(long Revision, long Oldest, List<RevisionReplyEntry> Changes);

    private sealed record RevisionReplyEntry(long Revision, DateTimeOffset At, string? By, string? Note, ChangeReply[] Changes);

    [Fact]
    public async Task The_history_shows_each_change_and_a_revision_is_restored_in_one_change()
    {
        string[] pair = [NewName(), NewName()];
        Array.Sort(pair, StringComparer.Ordinal);
        var (a, b) = (pair[0], pair[1]);
        var start = (await cluster.GetJsonAsync<RevisionReply>("/scenarios")).Revision;
        var before = await Names();
        await Put($"{a}?note=first%20version%20%E2%9C%93", """{"k": 3}""");
        await Applied(await Send(HttpMethod.Patch, "/scenarios", $$$"""{"{{{b}}}": {"cap": ["action:1"]}, "{{{a}}}": {"k": 4}}"""));
        using (var deleted = await cluster.Http.DeleteAsync($"/scenarios/{a}")) Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);

        // Newest first, each change with every scenario it stored or deleted, before and after.
        var history = await cluster.GetJsonAsync<ScenarioHistoryReply>("/scenario-history?limit=3");
        Assert.Equal(start + 3, history.Revision);
        Assert.True(history.Oldest <= start, $"{history.Oldest}");
        Assert.Equal([start + 3, start + 2, start + 1], history.Changes.Select(c => c.Revision));
        Assert.Equal([(a, (int?)4, (int?)null)], history.Changes[0].Changes.Select(c => (c.Name, c.Before!.K, c.After?.K)));
        Assert.Equal([(a, (int?)3, (int?)4, (string[]?)[]), (b, null, null, ["action:1"])],
            history.Changes[1].Changes.Select(c => (c.Name, c.Before?.K, c.After!.K, c.Before?.Cap ?? c.After!.Cap)).Select(c => (c.Name, c.Item2, c.Item3, (string[]?)c.Item4)),
            EqualityComparer<(string, int?, int?, string[]?)>.Create((x, y) => x.Item1 == y.Item1 && x.Item2 == y.Item2 && x.Item3 == y.Item3 && x.Item4!.SequenceEqual(y.Item4!), _ => 0));
        Assert.Equal([(a, (int?)null, (int?)3)], history.Changes[2].Changes.Select(c => (c.Name, c.Before?.K, c.After!.K)));
        // Each says who sent it (on this API without keys, the address) and the note it was sent with, if any.
        Assert.All(history.Changes, c => Assert.StartsWith("address ", c.By));
        Assert.Equal([null, null, "first version ✓"], history.Changes.Select(c => c.Note));
        Assert.True(history.Changes[0].At >= history.Changes[2].At);
        Assert.InRange((await cluster.GetJsonAsync<ScenarioHistoryReply>("/scenario-history")).Changes.Count, 3, 20);
        // One scenario's changes alone.
        var ofB = (await cluster.GetJsonAsync<ScenarioHistoryReply>($"/scenario-history?name={b}")).Changes;
        Assert.Equal([start + 2], ofB.Select(c => c.Revision));
        Assert.Equal([b], ofB[0].Changes.Select(c => c.Name));
        Assert.Equal([start + 3, start + 2, start + 1], (await cluster.GetJsonAsync<ScenarioHistoryReply>($"/scenario-history?name={a}")).Changes.Select(c => c.Revision));
        Assert.Equal(["name"], (await Refused(await cluster.Http.GetAsync("/scenario-history?name=a%20b"))).Errors!.Keys);

        // The set as it was at a revision, as GET /scenarios gives a set.
        Assert.Equal(start + 2, (await cluster.GetJsonAsync<RevisionReply>($"/scenario-history/{start + 2}")).Revision);
        var then = (await cluster.GetJsonAsync<ScenariosReply>($"/scenario-history/{start + 2}")).Scenarios;
        Assert.Equal((4, ["action:1"]), (then.Single(x => x.Name == a).K!.Value, then.Single(x => x.Name == b).Cap), EqualityComparer<(int, string[])>.Create((x, y) => x.Item1 == y.Item1 && x.Item2.SequenceEqual(y.Item2), _ => 0));
        Assert.Equal(before, (await cluster.GetJsonAsync<ScenariosReply>($"/scenario-history/{start}")).Scenarios.Select(x => x.Name));
        Assert.Contains($"Revision {start + 4} is not in the scenarios' history", (await Refused(await cluster.Http.GetAsync($"/scenario-history/{start + 4}"), HttpStatusCode.NotFound)).Errors!["revision"][0]);
        Assert.Equal(["revision"], (await Refused(await cluster.Http.GetAsync("/scenario-history/x"))).Errors!.Keys);

        // A dry run of a restore says what it would change and changes nothing; the restore makes it, as a new revision.
        var dry = await Applied(await cluster.Http.PostAsync($"/scenario-history/{start + 2}/restore?dryRun=true", null));
        Assert.Equal((true, [a], []), (dry.DryRun, dry.Put, dry.Deleted), EqualityComparer<(bool, string[], string[])>.Create(
            (x, y) => x.Item1 == y.Item1 && x.Item2.SequenceEqual(y.Item2) && x.Item3.SequenceEqual(y.Item3), _ => 0));
        Assert.Equal(before.Append(b).Order(StringComparer.Ordinal), dry.Unchanged.Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, (await cluster.Http.GetAsync($"/scenarios/{a}")).StatusCode);
        var restored = await Applied(await cluster.Http.PostAsync($"/scenario-history/{start + 2}/restore", null));
        Assert.Equal(start + 4, restored.Revision);
        Assert.Equal([a], restored.Put);
        Assert.Equal(4, (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{a}")).K);
        Assert.Equal(await User("k=10&cap=action:1"), await User($"k=10&scenario={b}"));

        // Back to before the test: conditional like any change, and kept in the history like any change.
        await Refused(await Conditional(HttpMethod.Post, $"/scenario-history/{start}/restore", null, "If-Match", Tag(start + 3)), HttpStatusCode.PreconditionFailed);
        var back = await Applied(await Conditional(HttpMethod.Post, $"/scenario-history/{start}/restore", null, "If-Match", Tag(start + 4)));
        Assert.Equal([a, b], back.Deleted);
        Assert.Equal(before, await Names());
        var newest = Assert.Single((await cluster.GetJsonAsync<ScenarioHistoryReply>("/scenario-history?limit=1")).Changes);
        Assert.Equal((start + 5, [a, b]), (newest.Revision, newest.Changes.Select(c => c.Name).ToArray()), EqualityComparer<(long, string[])>.Create((x, y) => x.Item1 == y.Item1 && x.Item2.SequenceEqual(y.Item2), _ => 0));

        // The command line shows the same history, rule by rule, and restores as the API does.
        var (exit, output, error) = await CommandLine.Run(cluster.BaseAddress, ["scenario-history", "--limit", "5"]);
        Assert.True(exit == 0, error);
        var shown = output.ReplaceLineEndings("\n");
        Assert.Contains($"revision {start + 3}  ", shown);
        Assert.Contains($"  by address ", shown);
        Assert.Contains($": first version ✓\n  put {a} (new)\n    k: 3\n", shown);
        Assert.Contains($"  put {a}\n    k: 3 -> 4\n", shown);
        Assert.Contains($"  put {b} (new)\n    cap: [action:1]\n", shown);
        Assert.Contains($"  deleted {a}\n", shown);
        Assert.Contains($"the scenarios are at revision {start + 5}; the history reaches back to revision", shown);
        (exit, output, error) = await CommandLine.Run(cluster.BaseAddress, ["scenario-history", "--name", b]);
        Assert.True(exit == 0, error);
        Assert.Equal([$"revision {start + 5}", $"revision {start + 2}"], output.Split('\n').Where(l => l.StartsWith("revision ")).Select(l => l[..l.IndexOf("  ", StringComparison.Ordinal)]));
        var file = Path.Combine(Path.GetTempPath(), $"scenarios-{Guid.NewGuid():N}.json");
        try
        {
            (exit, output, error) = await CommandLine.Run(cluster.BaseAddress, ["export-scenarios", "--out", file, "--revision", $"{start + 2}"]);
            Assert.True(exit == 0, error);
            Assert.Contains($"as they were at revision {start + 2} (apply-scenarios --prune with the file makes them so again)", output);
            using var exported = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(file));
            Assert.Equal(4, exported.RootElement.GetProperty(a).GetProperty("k").GetInt32());
            Assert.Equal("action:1", exported.RootElement.GetProperty(b).GetProperty("cap")[0].GetString());
        }
        finally
        {
            File.Delete(file);
        }
        (exit, output, error) = await CommandLine.Run(cluster.BaseAddress, ["scenario-history", "--restore", $"{start + 2}", "--dry-run"]);
        Assert.True(exit == 0, error);
        Assert.Contains($"would put {a} (new)\n  k: 4\n", output.ReplaceLineEndings("\n"));
        Assert.Contains($"would put {b} (new)", output);
        (exit, _, error) = await CommandLine.Run(cluster.BaseAddress, ["scenario-history", "--restore", $"{start + 2}", "--if-revision", $"{start + 4}"]);
        Assert.Equal(1, exit);
        Assert.Contains("answered 412: If-Match:", error);
        Assert.Contains($"revision {start + 2} was not restored over that change", error);
        Assert.Equal(before, await Names());
        (exit, output, error) = await CommandLine.Run(cluster.BaseAddress, ["scenario-history", "--restore", $"{start + 2}", "--if-revision", $"{start + 5}", "--note", "undo the reset"]);
        Assert.True(exit == 0, error);
        Assert.Equal("undo the reset", Assert.Single((await cluster.GetJsonAsync<ScenarioHistoryReply>("/scenario-history?limit=1")).Changes).Note);
        Assert.Contains($"restored revision {start + 2}: the scenarios are now at revision {start + 6}", output);
        Assert.Equal(4, (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{a}")).K);
        // Its answer lost: the repeat is refused (the restore moved the revision on), and the command finds the restore made.
        List<string> forwarded;
        (exit, output, error, forwarded) = await LosingTheFirstAnswer(["scenario-history", "--restore", $"{start}", "--if-revision", $"{start + 6}"], requests: 3);
        Assert.True(exit == 0, $"{error}\n{string.Join("\n", forwarded)}");
        Assert.Equal([$"POST /scenario-history/{start}/restore {Tag(start + 6)} -> 200", $"POST /scenario-history/{start}/restore {Tag(start + 6)} -> 412",
            $"POST /scenario-history/{start}/restore?dryRun=true  -> 200"], forwarded);
        Assert.Contains($"restored revision {start}: the scenarios are now at revision {start + 7} and already as they were then", output);
        Assert.Equal(before, await Names());
        (exit, _, error) = await CommandLine.Run(cluster.BaseAddress, ["scenario-history", "--restore", $"{start + 99}"]);
        Assert.Equal(1, exit);
        Assert.Contains($"Revision {start + 99} is not in the scenarios' history", error);
        (exit, _, error) = await CommandLine.Run(cluster.BaseAddress, ["scenario-history", "--dry-run"]);
        Assert.Equal(1, exit);
        Assert.Contains("--dry-run, --if-revision and --note go with --restore", error);
        await Applied(await cluster.Http.PostAsync($"/scenario-history/{start}/restore", null));
        Assert.Equal(before, await Names());

        // A revision the history does not reach, and malformed requests, are named and change nothing.
        var problem = await Refused(await cluster.Http.PostAsync($"/scenario-history/{start + 8}/restore", null), HttpStatusCode.NotFound);
        Assert.Contains($"Revision {start + 8} is not in the scenarios' history: it reaches from revision", problem.Errors!["revision"][0]);
        foreach (var (path, field) in new[] { ("/scenario-history/x/restore", "revision"), ("/scenario-history/-1/restore", "revision"), ($"/scenario-history/{start}/restore?dryRun=maybe", "dryRun") })
            Assert.Equal([field], (await Refused(await cluster.Http.PostAsync(path, null))).Errors!.Keys);
        Assert.Equal(["body"], (await Refused(await Send(HttpMethod.Post, $"/scenario-history/{start}/restore", "{}"))).Errors!.Keys);
        Assert.Equal(["note"], (await Refused(await Send(HttpMethod.Patch, $"/scenarios?note={new string('n', 201)}", "{}"))).Errors!.Keys);
        Assert.Equal(["note"], (await Refused(await Send(HttpMethod.Put, $"/scenarios/{a}?note=two%0Alines", "{}"))).Errors!.Keys);
        foreach (var limit in new[] { "0", "51", "x" })
            Assert.Equal(["limit"], (await Refused(await cluster.Http.GetAsync($"/scenario-history?limit={limit}"))).Errors!.Keys);
        Assert.Equal(start + 7, (await cluster.GetJsonAsync<RevisionReply>("/scenarios")).Revision);
    }

    [Fact]
    public async Task A_front_end_of_the_previous_release_changes_scenarios_as_it_did()
    {
        // During a rolling update such a front end calls the grain's unconditional forms.
        var grain = cluster.Cluster.Client.GetGrain<IScenariosGrain>(ScenarioNames.GrainKey);
        var (name, other) = (NewName(), NewName());
        var rules = new Scenario(null, null, null, null, null, DateTimeOffset.UtcNow, K: 3);
        var set = await grain.Put(name, rules);
        Assert.Equal(3, set!.Scenarios[name].K);
        Assert.Equal(3, (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{name}")).K);
        var applied = await grain.Apply(new() { [name] = null, [other] = rules with { K = 2 } }, replaceAll: false, dryRun: false);
        Assert.Equal(([other], [name]), (applied!.Put, applied.Deleted), EqualityComparer<(string[], string[])>.Create((x, y) => x.Item1.SequenceEqual(y.Item1) && x.Item2.SequenceEqual(y.Item2), _ => 0));
        Assert.True(await grain.Delete(other));
        Assert.False(await grain.Delete(other));
        Assert.DoesNotContain(other, await Names());
        // Its changes are in the history, without an author.
        var changes = (await cluster.GetJsonAsync<ScenarioHistoryReply>("/scenario-history?limit=3")).Changes;
        Assert.Equal([[other], new[] { name, other }.Order(StringComparer.Ordinal).ToArray(), [name]], changes.Select(c => c.Changes.Select(x => x.Name).Order(StringComparer.Ordinal).ToArray()));
        Assert.All(changes, c => Assert.Null(c.By));
    }

    [Fact]
    public async Task A_front_end_with_a_default_scenario_applies_it_to_every_list_read_without_one()
    {
        var (fallback, other) = (NewName(), NewName());
        var (api, address) = await cluster.StartFrontEndAsync(new Dictionary<string, string?> { ["Recommender:DefaultScenario"] = fallback });
        await using var _ = api;
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        async Task<List<string>> Read(string path) => [.. ((await http.GetFromJsonAsync<RecommendationsReply>(path))!).Items.Select(i => i.Id)];
        async Task<List<string>> Main(string path) => [.. ((await cluster.GetJsonAsync<RecommendationsReply>(path))).Items.Select(i => i.Id)];

        // Named but not defined: lists are read as they are.
        Assert.Equal(await User("k=10"), await Read("/users/5/recommendations?k=10"));
        // Defined (through this front end, which holds the change at once): every list read without scenario= gets it.
        using (var put = await http.PutAsync($"/scenarios/{fallback}", new StringContent("""{"cap": ["action:1"], "excludeTag": ["Romance"]}""", Encoding.UTF8, "application/json")))
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        using (var put = await http.PutAsync($"/scenarios/{other}", new StringContent("""{"tag": ["Action"]}""", Encoding.UTF8, "application/json")))
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        var rules = "cap=action:1&excludeTag=Romance";
        Assert.NotEqual(await User("k=10"), await User($"k=10&{rules}"));
        Assert.Equal(await User($"k=10&{rules}"), await Read("/users/5/recommendations?k=10"));
        Assert.Equal(await Main($"/popular?k=8&{rules}"), await Read("/popular?k=8"));
        Assert.Equal(await Main($"/items/2/similar?k=6&{rules}"), await Read("/items/2/similar?k=6"));
        // The request's own rules join the default's as they join a named scenario's; a named scenario replaces the default.
        Assert.Equal(await User("k=10&cap=action:3&excludeTag=Romance"), await Read("/users/5/recommendations?k=10&cap=action:3"));
        Assert.Equal(await User("k=10&tag=Action"), await Read($"/users/5/recommendations?k=10&scenario={other}"));
        // Front ends without the setting are not affected.
        Assert.NotEqual(await Main("/popular?k=8"), await Read("/popular?k=8"));
        foreach (var name in new[] { fallback, other }) Assert.True((await cluster.Http.DeleteAsync($"/scenarios/{name}")).IsSuccessStatusCode);
    }

    [Fact]
    public async Task A_scenario_with_a_time_holds_its_rules_within_it_only()
    {
        var now = DateTimeOffset.UtcNow;
        static string Window(DateTimeOffset? from, DateTimeOffset? until)
        {
            var time = (from is { } f ? $", \"activeFrom\": \"{f:O}\"" : "") + (until is { } u ? $", \"activeUntil\": \"{u:O}\"" : "");
            return "{\"cap\": [\"action:1\"], \"excludeTag\": [\"Romance\"]" + time + "}";
        }
        var (running, ended, upcoming) = (NewName(), NewName(), NewName());
        var stored = await Put(running, Window(now.AddHours(-1), now.AddHours(1)));
        Assert.Equal((now.AddHours(-1), now.AddHours(1)), (stored.ActiveFrom!.Value, stored.ActiveUntil!.Value));
        await Put(ended, Window(null, now.AddMinutes(-1)));
        // Unix seconds too.
        await Put(upcoming, $$$"""{"cap": ["action:1"], "activeFrom": {{{now.AddHours(1).ToUnixTimeSeconds()}}}}""");

        var plain = await User("k=10");
        var ruled = await User("k=10&cap=action:1&excludeTag=Romance");
        Assert.NotEqual(plain, ruled);
        Assert.Equal(ruled, await User($"k=10&scenario={running}"));
        Assert.Equal(plain, await User($"k=10&scenario={ended}"));
        Assert.Equal(plain, await User($"k=10&scenario={upcoming}"));
        var active = await Task.WhenAll(new[] { running, ended, upcoming }.Select(async n => (await cluster.GetJsonAsync<ScenarioReply>($"/scenarios/{n}")).Active));
        Assert.Equal(new[] { true, false, false }, active);
        var always = NewName();
        Assert.True((await Put(always, "{}")).Active);
        Assert.True((await cluster.Http.DeleteAsync($"/scenarios/{always}")).IsSuccessStatusCode);
        // Outside its time a scenario still reads: the request's own rules apply alone.
        Assert.Equal(await User("k=10&cap=action:2"), await User($"k=10&scenario={ended}&cap=action:2"));

        // The end comes after the start; a time is ISO 8601 or Unix seconds.
        using (var backwards = await cluster.Http.PutAsync($"/scenarios/{NewName()}", new StringContent(Window(now, now), Encoding.UTF8, "application/json")))
            Assert.Contains("must be later than 'activeFrom'", (await Refused(backwards)).Errors!["activeUntil"][0]);
        using (var vague = await cluster.Http.PutAsync($"/scenarios/{NewName()}", new StringContent("""{"activeFrom": "next Friday"}""", Encoding.UTF8, "application/json")))
            Assert.Contains("ISO-8601", (await Refused(vague)).Errors!["activeFrom"][0]);
        foreach (var name in new[] { running, ended, upcoming }) Assert.True((await cluster.Http.DeleteAsync($"/scenarios/{name}")).IsSuccessStatusCode);
    }

    [Fact]
    public async Task The_cluster_keeps_at_most_its_limit_of_scenarios()
    {
        var existing = (await cluster.GetJsonAsync<ScenariosReply>("/scenarios")).Scenarios.Count;
        var added = Enumerable.Range(0, Limits.MaxScenarios - existing).Select(_ => NewName()).ToList();
        foreach (var name in added) await Put(name, "{}");
        using (var full = await cluster.Http.PutAsync($"/scenarios/{NewName()}", new StringContent("{}", Encoding.UTF8, "application/json")))
            Assert.Contains($"keeps {Limits.MaxScenarios} scenarios already", (await Refused(full, HttpStatusCode.Conflict)).Errors!["name"][0]);
        // One already there may still be replaced.
        await Put(added[^1], """{"boost": ["sale:2"]}""");
        foreach (var name in added) Assert.True((await cluster.Http.DeleteAsync($"/scenarios/{name}")).IsSuccessStatusCode);
        Assert.Equal(existing, (await cluster.GetJsonAsync<ScenariosReply>("/scenarios")).Scenarios.Count);
    }
}

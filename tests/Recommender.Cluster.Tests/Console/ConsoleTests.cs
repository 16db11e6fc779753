using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using OpenQA.Selenium;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Cluster.Tests.Serving;

namespace Recommender.Cluster.Tests.Console;

/// <summary>
/// The operator console at /console/, in a real headless Chromium against a front end with API keys: it asks for a key,
/// then shows what the API answers for a user, an item, the popular list and the models, follows its own links, names
/// the field of a bad value, and writes every value from the API as text.
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class ConsoleTests(ServingCluster cluster) : IAsyncLifetime
{
    private const string AdminKey = "console-admin-0123456789abcdef012";
    private const string ClientKey = "console-client-0123456789abcdef01";
    private WebApplication _api = null!;
    private Uri _address = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        (_api, _address) = await cluster.StartFrontEndAsync(new Dictionary<string, string?>
        {
            ["Recommender:ApiKeys:Admin"] = AdminKey,
            ["Recommender:ApiKeys:Client:0"] = ClientKey,
        });
        _http = new HttpClient { BaseAddress = _address, Timeout = TimeSpan.FromSeconds(60) };
        _http.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _api.StopAsync();
        await _api.DisposeAsync();
    }

    private sealed record FoundItemsReply(string ModelVersion, List<FoundItemReply> Items);

    private sealed record FoundItemReply(string Id, string Title);

    private static string[] RowIds(IWebDriver page, string table) =>
        [.. page.FindElements(By.CssSelector($"#{table} tbody tr[data-id]")).Select(row => row.GetAttribute("data-id")!)];

    [Fact]
    public async Task The_console_asks_for_a_key_then_shows_what_the_api_answers_and_writes_values_as_text()
    {
        // The pages are served without a key, with a policy that lets only the console's own scripts run.
        using (var page = await _http.GetAsync("/console/"))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.StartsWith("default-src 'none'; script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        }
        var user = "5";
        var models = await _http.GetFromJsonAsync<ModelsReply>("/models");
        var recommended = (await _http.GetFromJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=5&explain=true"))!.Items.Select(i => i.Id).ToArray();
        var history = await _http.GetFromJsonAsync<HistoryReply>($"/users/{user}/history");
        var marked = $"console-{Guid.NewGuid():N}";
        const string markup = "<img src=x onerror=\"document.title='run'\"> & <script>document.title='run'</script>";

        using var chromium = new HeadlessChromium();
        var browser = chromium.Driver;
        browser.Navigate().GoToUrl(new Uri(_address, "/console"));
        Assert.Equal("Recommender console", browser.Title);
        Assert.EndsWith("/console/", browser.Url.Split('#')[0]);
        // Without a key the console says what it needs.
        chromium.Until(b => b.FindElement(By.Id("status")).Text is var s && s.Contains("Enter an API key") ? s : null, "the request for a key");
        browser.Navigate().GoToUrl(new Uri(_address, $"/console/#/users/{user}"));
        chromium.Until(b => b.FindElements(By.CssSelector("[role=alert]")).FirstOrDefault(a => a.Text.Contains("needs an API key")), "the 401 explained");

        // With the client key: the active model, then the user's list and history as the API gives them.
        browser.FindElement(By.Id("api-key")).SendKeys(ClientKey);
        browser.FindElement(By.CssSelector("#key-form button[type=submit]")).Click();
        chromium.Until(b => b.FindElement(By.Id("status")).Text is var s && s.Contains($"Active model {models!.Active}") ? s : null, "the active model");
        browser.Navigate().GoToUrl(new Uri(_address, $"/console/#/users/{user}?k=5"));
        chromium.Until(b => RowIds(b, "recommendations") is { Length: 5 } ids ? ids : null, "the user's recommendations");
        Assert.Equal(recommended, RowIds(browser, "recommendations"));
        Assert.Equal(Math.Min(50, history!.Events.Count), browser.FindElements(By.CssSelector("#history tbody tr")).Count);
        // Each history item with its title, as POST /items/lookup reads it.
        var newest = (await _http.GetFromJsonAsync<ItemReply>($"/items/{history.Events[^1].ItemId}"))!;
        Assert.Contains($"{newest.Id} {newest.Title}", chromium.Until(b => b.FindElement(By.CssSelector("#history tbody tr")).Text is var t && t.Contains(newest.Title) ? t : null, "the title"));

        // Its links lead to the item: its details and its similar items, as the API gives them.
        browser.FindElement(By.CssSelector($"#recommendations tbody tr[data-id='{recommended[0]}'] a")).Click();
        var item = (await _http.GetFromJsonAsync<ItemReply>($"/items/{recommended[0]}"))!;
        chromium.Until(b => b.FindElements(By.CssSelector("#item-details dd[data-field=Title]")).FirstOrDefault(d => d.Text == item.Title), "the item's title");
        Assert.EndsWith($"#/items/{recommended[0]}", browser.Url);
        var similar = (await _http.GetFromJsonAsync<SimilarReply>($"/items/{recommended[0]}/similar?k=10"))!.Items.Select(i => i.Id).ToArray();
        chromium.Until(b => RowIds(b, "similar-items") is { Length: > 0 } ids ? ids : null, "the similar items");
        Assert.Equal(similar, RowIds(browser, "similar-items"));

        // An item found by a part of its title, as GET /items?title= finds it.
        var part = item.Title.Length > 6 ? item.Title[1..6] : item.Title;
        var matching = (await _http.GetFromJsonAsync<FoundItemsReply>($"/items?title={Uri.EscapeDataString(part)}&k=50"))!.Items.Select(i => i.Id).ToArray();
        Assert.Contains(recommended[0], matching);
        browser.Navigate().GoToUrl(new Uri(_address, $"/console/#/items?title={Uri.EscapeDataString(part)}"));
        chromium.Until(b => RowIds(b, "found") is { Length: > 0 } ids ? ids : null, "the items found");
        Assert.Equal(matching, RowIds(browser, "found"));

        // A session's list, as POST /recommendations gives it.
        using (var session = await _http.PostAsJsonAsync("/recommendations?k=5&explain=true", new { items = new[] { "1", "2", "3" } }))
        {
            var expected = (await session.Content.ReadFromJsonAsync<SessionRecommendationsReply>())!.Items.Select(i => i.Id).ToArray();
            browser.Navigate().GoToUrl(new Uri(_address, "/console/#/session?items=1,%202,3&k=5"));
            chromium.Until(b => RowIds(b, "session") is { Length: 5 } ids ? ids : null, "the session's list");
            Assert.Equal(expected, RowIds(browser, "session"));
        }

        // A bad value is named as the API names it.
        browser.Navigate().GoToUrl(new Uri(_address, $"/console/#/users/{user}?k=0"));
        chromium.Until(b => b.FindElements(By.CssSelector("[role=alert] li")).FirstOrDefault(a => a.Text.StartsWith("k: ")), "the problem naming k");

        // The popular list and the models.
        var popular = (await _http.GetFromJsonAsync<PopularReply>("/popular?k=5"))!.Items.Select(i => i.Id).ToArray();
        browser.Navigate().GoToUrl(new Uri(_address, "/console/#/lists?k=5"));
        chromium.Until(b => RowIds(b, "popular") is { Length: 5 } ids ? ids : null, "the popular list");
        Assert.Equal(popular, RowIds(browser, "popular"));
        browser.Navigate().GoToUrl(new Uri(_address, "/console/#/models"));
        var active = chromium.Until(b => b.FindElements(By.CssSelector($"#models tr[data-version='{models!.Active}']")).FirstOrDefault(), "the models");
        Assert.Contains("active", active.Text);
        Assert.Equal(models!.Models.Count, browser.FindElements(By.CssSelector("#models tbody tr[data-version]")).Count);

        // The scenarios need an admin key: the console says so, and with one shows each scenario's rules and a way to try it.
        var scenario = $"console-{Guid.NewGuid():N}";
        using (var put = await _http.PutAsJsonAsync($"/scenarios/{scenario}", new { excludeTag = new[] { "sold-out" }, pin = new[] { "7:1" }, k = 5 }))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        try
        {
            browser.Navigate().GoToUrl(new Uri(_address, "/console/#/scenarios"));
            chromium.Until(b => b.FindElements(By.CssSelector("[role=alert]")).FirstOrDefault(a => a.Text.Contains("an admin key is needed")), "the 403 explained");
            browser.FindElement(By.Id("api-key")).SendKeys(AdminKey);
            browser.FindElement(By.CssSelector("#key-form button[type=submit]")).Click();
            var row = chromium.Until(b => b.FindElements(By.CssSelector($"#scenarios tr[data-scenario='{scenario}']")).FirstOrDefault(), "the scenario");
            Assert.Contains("excludeTag=sold-out pin=7:1 k=5", row.Text);
            row.FindElement(By.LinkText("try on a user")).Click();
            chromium.Until(b => b.FindElements(By.CssSelector("input[name=scenario]")).FirstOrDefault(i => i.GetAttribute("value") == scenario), "the scenario in the user form");
        }
        finally
        {
            using (await _http.DeleteAsync($"/scenarios/{scenario}")) { }
        }

        // An item whose title and text are markup: shown as written, and nothing of it runs.
        using (var put = await _http.PutAsJsonAsync($"/items/{marked}", new { title = markup, text = markup, tags = new[] { marked }, hidden = true }))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        try
        {
            browser.Navigate().GoToUrl(new Uri(_address, $"/console/#/items/{marked}"));
            chromium.Until(b => b.FindElements(By.CssSelector("#item-details dd[data-field=Title]")).FirstOrDefault(d => d.Text == markup), "the title as text");
            Assert.Equal(markup, browser.FindElement(By.CssSelector("#item-details dd[data-field=Text]")).Text);
            Assert.Empty(browser.FindElements(By.CssSelector("#view img, #view script")));
            Assert.Equal("Recommender console", browser.Title);

            // Shown again from the console, and hidden again: the item keeps everything else it was written with.
            browser.FindElement(By.Id("toggle-hidden")).Click();
            chromium.Until(b => b.FindElements(By.CssSelector("#item-details dd[data-field=Hidden]")).FirstOrDefault(d => d.Text == "no"), "the item shown");
            var shown = (await _http.GetFromJsonAsync<ItemReply>($"/items/{marked}"))!;
            Assert.Equal((false, markup, markup, marked), (shown.Hidden, shown.Title, shown.Text, shown.Tags.Single()));
            chromium.Until(b => b.FindElement(By.Id("toggle-hidden")).Text == "Hide from every list" ? "" : null, "the button turned over");
            browser.FindElement(By.Id("toggle-hidden")).Click();
            chromium.Until(b => b.FindElements(By.CssSelector("#item-details dd[data-field=Hidden]")).FirstOrDefault(d => d.Text == "yes"), "the item hidden");
            Assert.True((await _http.GetFromJsonAsync<ItemReply>($"/items/{marked}"))!.Hidden);

            // Edited: only the fields changed in the form are sent, so a text another client wrote meanwhile stays.
            chromium.Until(b => b.FindElements(By.CssSelector("#item-details dd[data-field=Hidden]")).FirstOrDefault(d => d.Text == "yes"), "the item hidden");
            browser.FindElement(By.CssSelector("details summary")).Click();
            using (var meanwhile = await _http.PatchAsJsonAsync($"/items/{marked}", new { text = "Written meanwhile" }))
                Assert.Equal(HttpStatusCode.OK, meanwhile.StatusCode);
            var title = browser.FindElement(By.CssSelector("#item-editor input[name=title]"));
            title.Clear();
            title.SendKeys("Edited title");
            var tags = browser.FindElement(By.CssSelector("#item-editor textarea[name=tags]"));
            tags.Clear();
            tags.SendKeys($"{marked}\nsecond tag");
            browser.FindElement(By.CssSelector("#item-editor button[type=submit]")).Click();
            chromium.Until(b => b.FindElements(By.CssSelector("#item-details dd[data-field=Title]")).FirstOrDefault(d => d.Text == "Edited title"), "the title edited");
            var edited = (await _http.GetFromJsonAsync<ItemReply>($"/items/{marked}"))!;
            Assert.Equal(("Edited title", "Written meanwhile", $"{marked},second tag", true), (edited.Title, edited.Text, string.Join(",", edited.Tags), edited.Hidden));
            // A field another client changed meanwhile is not overwritten: the problem names it with both values, and
            // nothing is written.
            chromium.Until(b => b.FindElements(By.CssSelector("#item-details dd[data-field=Text]")).FirstOrDefault(d => d.Text == "Written meanwhile"), "the item read again");
            browser.FindElement(By.CssSelector("details summary")).Click();
            using (var retitled = await _http.PatchAsJsonAsync($"/items/{marked}", new { title = "Retitled meanwhile" }))
                Assert.Equal(HttpStatusCode.OK, retitled.StatusCode);
            var clashing = browser.FindElement(By.CssSelector("#item-editor input[name=title]"));
            clashing.Clear();
            clashing.SendKeys("Console title");
            browser.FindElement(By.CssSelector("#item-editor button[type=submit]")).Click();
            chromium.Until(b => b.FindElements(By.CssSelector("#item-editor [role=alert] li"))
                .FirstOrDefault(a => a.Text == "title: was Edited title when read, is Retitled meanwhile now; yours: Console title."), "the clash named");
            Assert.Equal("Retitled meanwhile", (await _http.GetFromJsonAsync<ItemReply>($"/items/{marked}"))!.Title);
            browser.Navigate().Refresh();
            chromium.Until(b => b.FindElements(By.CssSelector("#item-details dd[data-field=Title]")).FirstOrDefault(d => d.Text == "Retitled meanwhile"), "the item read again");
            // A bad time is named as the API names it, and nothing is written.
            browser.FindElement(By.CssSelector("details summary")).Click();
            browser.FindElement(By.CssSelector("#item-editor input[name=expiresAt]")).SendKeys("next week");
            browser.FindElement(By.CssSelector("#item-editor button[type=submit]")).Click();
            chromium.Until(b => b.FindElements(By.CssSelector("#item-editor [role=alert] li")).FirstOrDefault(a => a.Text.StartsWith("expiresAt: ")), "the problem naming expiresAt");
            Assert.Null((await _http.GetFromJsonAsync<ItemReply>($"/items/{marked}"))!.ExpiresAt);

            // A deletion confirmed after another client wrote the item is refused, and the item stays.
            browser.Navigate().Refresh();
            chromium.Until(b => b.FindElements(By.CssSelector("[data-action=delete-item]")).FirstOrDefault(), "the deletion button").Click();
            using (var meanwhile = await _http.PatchAsJsonAsync($"/items/{marked}", new { text = "Written before the deletion" }))
                Assert.Equal(HttpStatusCode.OK, meanwhile.StatusCode);
            browser.FindElement(By.CssSelector("[data-confirm=delete-item]")).Click();
            chromium.Until(b => b.FindElements(By.CssSelector(".action [role=alert]")).FirstOrDefault(a => a.Text.Contains("changed, created or deleted by someone else")), "the refusal explained");
            Assert.Equal("Written before the deletion", (await _http.GetFromJsonAsync<ItemReply>($"/items/{marked}"))!.Text);

            // Deleted after a confirmation: the console goes back to finding items and says what it did.
            browser.Navigate().Refresh();
            chromium.Until(b => b.FindElements(By.CssSelector("#item-details dd[data-field=Text]")).FirstOrDefault(d => d.Text == "Written before the deletion"), "the item read again");
            browser.FindElement(By.CssSelector("[data-action=delete-item]")).Click();
            browser.FindElement(By.CssSelector("[data-confirm=delete-item]")).Click();
            chromium.Until(b => b.FindElements(By.Id("notice")).FirstOrDefault(n => n.Text == $"Item {marked} deleted."), "the deletion said");
            Assert.EndsWith("#/items", browser.Url);
            using (var gone = await _http.GetAsync($"/items/{marked}"))
                Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        finally
        {
            using (await _http.DeleteAsync($"/items/{marked}")) { }
        }

        // One event taken back after a confirmation, then the user erased: the history is empty afterwards.
        var erased = $"console-erased-{Guid.NewGuid():N}";
        using (var posted = await _http.PostAsJsonAsync("/events", new[] { new { userId = erased, itemId = "3", type = "view", eventId = "kept" },
                   new { userId = erased, itemId = "5", type = "purchase", eventId = "mistaken" } }))
            Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync());
        browser.Navigate().GoToUrl(new Uri(_address, $"/console/#/users/{erased}"));
        chromium.Until(b => b.FindElements(By.CssSelector("#history tr[data-event=mistaken] [data-action=take-back]")).FirstOrDefault(), "the event's button").Click();
        browser.FindElement(By.CssSelector("#history tr[data-event=mistaken] [data-confirm=take-back]")).Click();
        chromium.Until(b => b.FindElements(By.Id("notice")).FirstOrDefault(n => n.Text == "Event mistaken taken back."), "the removal said");
        Assert.Equal(["kept"], (await _http.GetFromJsonAsync<HistoryReply>($"/users/{erased}/history"))!.Events.Select(e => e.EventId));
        chromium.Until(b => b.FindElements(By.CssSelector("#history tbody tr")).Count == 1 ? "" : null, "the history read again");
        chromium.Until(b => b.FindElements(By.CssSelector("[data-action=erase-user]")).FirstOrDefault(), "the erasure").Click();
        browser.FindElement(By.CssSelector("[data-confirm=erase-user]")).Click();
        chromium.Until(b => b.FindElements(By.Id("notice")).FirstOrDefault(n => n.Text == $"User {erased} erased (stored events deleted: 1)."), "the erasure said");
        Assert.Equal(0, (await _http.GetFromJsonAsync<HistoryReply>($"/users/{erased}/history"))!.TotalCount);

        // Forgotten, the key is no longer sent.
        browser.FindElement(By.Id("forget-key")).Click();
        chromium.Until(b => b.FindElement(By.Id("status")).Text is var s && s.Contains("Enter an API key") ? s : null, "the key forgotten");
        // No script failed on the way: the only errors logged are the API's refusals the console showed (401, 403, 400; 404 for the hidden item's
        // similar items; 412 for the edits sent against a version another client had replaced).
        Assert.All(chromium.Errors(), message => Assert.Matches(@"Failed to load resource: the server responded with a status of (400|401|403|404|412)", message));
    }

    [Fact]
    public async Task An_admin_starts_changes_and_stops_an_a_b_test_activates_a_version_and_rolls_back_from_the_console_after_confirming()
    {
        var before = (await _http.GetFromJsonAsync<ModelsReply>("/models"))!;
        var served = before.Active!;
        var version = TestPackages.NewVersion("console");
        await TestPackages.UploadOk(_http, TestPackages.Baseline(cluster.Ratings, version, before.Models.Single(m => m.Version == served).Dimension));
        async Task<ModelsReply> Models() => (await _http.GetFromJsonAsync<ModelsReply>("/models"))!;
        using var chromium = new HeadlessChromium();
        var browser = chromium.Driver;
        try
        {
            browser.Navigate().GoToUrl(new Uri(_address, "/console/#/models"));
            browser.FindElement(By.Id("api-key")).SendKeys(AdminKey);
            browser.FindElement(By.CssSelector("#key-form button[type=submit]")).Click();
            IWebElement Action(string name) => chromium.Until(b => b.FindElements(By.CssSelector($"[data-action='{name}:{version}']")).FirstOrDefault(), name);
            void Confirm(string name) => chromium.Until(b => b.FindElements(By.CssSelector($"[data-confirm='{name}']")).FirstOrDefault(), $"{name} to confirm").Click();
            // The notice the view drawn after the action shows (an earlier view's says something else).
            void Notice(string expected) => chromium.Until(b => b.FindElements(By.Id("notice")).FirstOrDefault(n => n.Text.Contains(expected)), $"the notice \"{expected}\"", TimeSpan.FromSeconds(60));

            // An action asks first, and Cancel does nothing.
            Action("activate").Click();
            Assert.Contains($"Serve {version} to every user, in place of {served}?", browser.FindElement(By.CssSelector("#models .question")).Text);
            browser.FindElement(By.XPath("//button[text()='Cancel']")).Click();
            Action("activate");
            Assert.Equal((served, null), ((await Models()).Active, (await Models()).Candidate));

            // A share out of range is named and nothing starts; a quarter of the users then get the version.
            var share = chromium.Until(b => b.FindElements(By.CssSelector($"tr[data-version='{version}'] input.share")).FirstOrDefault(), "the share");
            share.Clear();
            share.SendKeys("150");
            Action("candidate").Click();
            Confirm($"candidate:{version}");
            chromium.Until(b => b.FindElements(By.CssSelector("#models [role=alert]")).FirstOrDefault(a => a.Text.Contains("at most 100 %")), "the share refused");
            Assert.Null((await Models()).Candidate);
            browser.FindElement(By.XPath("//button[text()='Cancel']")).Click();
            share.Clear();
            share.SendKeys("25");
            Action("candidate").Click();
            Assert.Contains($"Serve {version} to 25 % of the users beside {served}?", browser.FindElement(By.CssSelector("#models .question")).Text);
            Confirm($"candidate:{version}");
            Notice($"{version} serves 25.00 % of the users beside {served}");
            Assert.Equal((version, 0.25), ((await Models()).Candidate, (await Models()).CandidateShare));
            Assert.Contains("candidate 25.00 %", browser.FindElement(By.CssSelector($"tr[data-version='{version}']")).Text);

            // Raised to a half, then stopped.
            share = browser.FindElement(By.CssSelector($"tr[data-version='{version}'] input.share"));
            share.Clear();
            share.SendKeys("50");
            Action("share").Click();
            Confirm($"share:{version}");
            Notice("serves 50.00 % of the users");
            Assert.Equal(0.5, (await Models()).CandidateShare);

            // Users with a history served a list, each taking its first item next: the console shows the comparison,
            // each side's counts and the split as the API gives them.
            var users = Enumerable.Range(0, 24).Select(i => $"console-ab-{Guid.NewGuid():N}").ToArray();
            using (var history = await _http.PostAsJsonAsync("/events", users.SelectMany(u => new[]
                   {
                       new { userId = u, itemId = "1", type = "view", timestamp = DateTimeOffset.UtcNow.AddMinutes(-10) },
                       new { userId = u, itemId = "2", type = "view", timestamp = DateTimeOffset.UtcNow.AddMinutes(-5) },
                   }).ToArray()))
                Assert.True(history.IsSuccessStatusCode, await history.Content.ReadAsStringAsync());
            foreach (var user in users)
            {
                var list = (await _http.GetFromJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=5"))!;
                using var next = await _http.PostAsJsonAsync("/events", new { userId = user, itemId = list.Items[0].Id, type = "view" });
                Assert.True(next.IsSuccessStatusCode, await next.Content.ReadAsStringAsync());
            }
            CandidateResultsReply results = null!;
            await ServingChecks.Eventually(async () =>
            {
                results = (await _http.GetFromJsonAsync<CandidateResultsReply>($"/models/{version}/candidate/results"))!;
                return results.HitRate is not null && results.CandidateArm.NextEvents + results.ControlArm.NextEvents == users.Length;
            }, "every next event counted");
            browser.Navigate().Refresh();
            var hitRow = chromium.Until(b => b.FindElements(By.CssSelector("#ab-results tr[data-metric='Hit rate']")).FirstOrDefault(), "the comparison");
            string Percent(double share) => (share * 100).ToString("F2", System.Globalization.CultureInfo.InvariantCulture) + " %";
            Assert.StartsWith($"Hit rate {Percent(results.HitRate!.Candidate)} {Percent(results.HitRate.Control)} {Percent(results.HitRate.Difference)}", hitRow.Text);
            Assert.Contains($"Candidate: {results.CandidateArm.NextEvents} next events", browser.FindElement(By.Id("ab-test")).Text);
            Assert.Contains($"Split: {results.SampleRatio!.CandidateUsers} users on the candidate's side", browser.FindElement(By.Id("ab-split")).Text);
            Action("stop").Click();
            Confirm($"stop:{version}");
            Notice($"every user gets {served}");
            Assert.Null((await Models()).Candidate);

            // Activated, then rolled back to the version served before.
            Action("activate").Click();
            Confirm($"activate:{version}");
            Notice($"{version} is active (was {served})");
            Assert.Equal(version, (await Models()).Active);
            chromium.Until(b => b.FindElements(By.CssSelector("[data-action=rollback]")).FirstOrDefault(a => a.Text == $"Roll back to {served}"), "the rollback").Click();
            Confirm("rollback");
            Notice($"{served} is active (was {version})");
            Assert.Equal(served, (await Models()).Active);
            Assert.All(chromium.Errors(), message => Assert.Matches(@"Failed to load resource: the server responded with a status of (401|404)", message));
        }
        finally
        {
            var models = await Models();
            if (models.Candidate is { } candidate) using (await _http.DeleteAsync($"/models/{candidate}/candidate")) { }
            if (models.Active != served) await TestPackages.Activate(_http, served);
            await ServingChecks.WaitForVersion(cluster, "3", served);
        }
    }

    private sealed record ScenarioRulesReply(string Name, string[] ExcludeTag, int? K, long Revision);

    [Fact]
    public async Task An_admin_creates_edits_and_deletes_a_scenario_from_the_console_without_overwriting_a_change_made_meanwhile()
    {
        var name = $"console-{Guid.NewGuid():N}"[..24];
        async Task<ScenarioRulesReply> Stored() => (await _http.GetFromJsonAsync<ScenarioRulesReply>($"/scenarios/{name}"))!;
        using var chromium = new HeadlessChromium();
        var browser = chromium.Driver;
        void Notice(string expected) => chromium.Until(b => b.FindElements(By.Id("notice")).FirstOrDefault(n => n.Text.Contains(expected)), $"the notice \"{expected}\"");
        IWebElement Editor(string field) => chromium.Until(b => b.FindElements(By.CssSelector($"#scenario-editor [name={field}]")).FirstOrDefault(), $"the editor's {field}");
        void Rules(string json)
        {
            var rules = Editor("rules");
            rules.Clear();
            rules.SendKeys(json);
        }
        void Submit() => browser.FindElement(By.CssSelector("#scenario-editor button[type=submit]")).Click();
        IWebElement Problem(string text) => chromium.Until(b => b.FindElements(By.CssSelector("#scenario-editor [role=alert]")).FirstOrDefault(a => a.Text.Contains(text)), $"the problem \"{text}\"");
        try
        {
            browser.Navigate().GoToUrl(new Uri(_address, "/console/#/scenarios"));
            browser.FindElement(By.Id("api-key")).SendKeys(AdminKey);
            browser.FindElement(By.CssSelector("#key-form button[type=submit]")).Click();

            // Created with a note for the history.
            chromium.Until(b => b.FindElements(By.Id("new-scenario")).FirstOrDefault(), "the link to a new scenario").Click();
            Editor("name").SendKeys(name);
            Rules("""{"excludeTag": ["sold-out"], "k": 5}""");
            Editor("note").SendKeys("console test");
            Submit();
            Notice($"Scenario {name} created");
            var created = await Stored();
            Assert.Equal(("sold-out", 5), (string.Join(",", created.ExcludeTag), created.K));
            Assert.Contains("console test", await _http.GetStringAsync("/scenario-history?limit=1"));
            chromium.Until(b => b.FindElements(By.CssSelector($"#scenarios tr[data-scenario='{name}'] a")).FirstOrDefault(), "the scenario's row").Click();

            // Rules that are not JSON, or that the API refuses, are named and store nothing.
            Rules("""{"k": 7""");
            Submit();
            Problem("not valid JSON");
            Rules("""{"k": 0}""");
            Submit();
            chromium.Until(b => b.FindElements(By.CssSelector("#scenario-editor [role=alert] li")).FirstOrDefault(a => a.Text.StartsWith("k")), "the problem naming k");
            Assert.Equal(5, (await Stored()).K);

            // Changed by someone else after the page read it: the save is refused and the other change stays.
            using (var meanwhile = await _http.PutAsJsonAsync($"/scenarios/{name}", new { excludeTag = new[] { "sold-out" }, k = 9 }))
                Assert.Equal(HttpStatusCode.OK, meanwhile.StatusCode);
            Rules("""{"excludeTag": ["sold-out"], "k": 7}""");
            Submit();
            Problem("someone else");
            Assert.Equal(9, (await Stored()).K);

            // Opened again, it saves.
            browser.Navigate().Refresh();
            chromium.Until(b => b.FindElements(By.CssSelector("#scenario-editor textarea")).FirstOrDefault(t => t.GetAttribute("value")!.Contains("9")), "the rules read again");
            Rules("""{"excludeTag": ["sold-out"], "k": 7}""");
            Submit();
            Notice($"Scenario {name} saved");
            Assert.Equal(7, (await Stored()).K);

            // Deleted after a confirmation.
            chromium.Until(b => b.FindElements(By.CssSelector($"#scenarios tr[data-scenario='{name}'] a")).FirstOrDefault(), "the scenario's row").Click();
            chromium.Until(b => b.FindElements(By.CssSelector("[data-action=delete-scenario]")).FirstOrDefault(), "the deletion").Click();
            browser.FindElement(By.CssSelector("[data-confirm=delete-scenario]")).Click();
            Notice($"Scenario {name} deleted");
            using (var gone = await _http.GetAsync($"/scenarios/{name}"))
                Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
            Assert.Empty(browser.FindElements(By.CssSelector($"#scenarios tr[data-scenario='{name}']")));
        }
        finally
        {
            using (await _http.DeleteAsync($"/scenarios/{name}")) { }
        }
    }

    [Fact]
    public async Task A_front_end_started_without_the_console_does_not_serve_it()
    {
        var (api, address) = await cluster.StartFrontEndAsync(new Dictionary<string, string?> { ["Recommender:Console"] = "false" });
        try
        {
            using var http = new HttpClient { BaseAddress = address };
            using var page = await http.GetAsync("/console/");
            Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
            using var script = await http.GetAsync("/console/console.js");
            Assert.Equal(HttpStatusCode.NotFound, script.StatusCode);
        }
        finally
        {
            await api.StopAsync();
            await api.DisposeAsync();
        }
    }
}

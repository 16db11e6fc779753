using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Recommender.Deployment.Tests;

/// <summary>
/// deploy/prometheus and deploy/grafana: the alerting rules are valid and pass their own unit tests in Prometheus' rule
/// checker, the dashboard's queries are valid PromQL, every metric either names is one the cluster's processes export
/// (a renamed instrument would leave an alert that never fires and a panel that stays empty), and a Prometheus server
/// scraping the cluster evaluates them all on its real series.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class MonitoringFilesTests(ClusterFixture fixture)
{
    private static readonly string Rules = RepositoryPaths.Deploy("prometheus", "recommender-alerts.yml");
    private static readonly string Dashboard = RepositoryPaths.Deploy("grafana", "recommender-dashboard.json");

    // tests/run.sh installs Debian's prometheus package for it when missing.
    private static string Promtool => Environment.GetEnvironmentVariable("RECOMMENDER_PROMTOOL") is { Length: > 0 } path ? path : "promtool";

    private static string Prometheus => Environment.GetEnvironmentVariable("RECOMMENDER_PROMETHEUS") is { Length: > 0 } path ? path : "prometheus";

    [Fact]
    public async Task The_rules_and_the_compose_prometheus_configuration_are_valid_and_the_rules_fire_as_their_unit_tests_expect()
    {
        await ExternalCommand.RunAsync(Promtool, ["check", "rules", Rules]);
        await ExternalCommand.RunAsync(Promtool, ["test", "rules", RepositoryPaths.Deploy("prometheus", "recommender-alerts.test.yml")]);
        // The docker compose file's Prometheus, with the rules it loads from beside it.
        await ExternalCommand.RunAsync(Promtool, ["check", "config", RepositoryPaths.Deploy("prometheus", "compose-prometheus.yml")]);
    }

    [Fact]
    public async Task The_dashboards_queries_are_valid_PromQL()
    {
        var panels = DashboardPanels();
        Assert.Equal(panels.Count, panels.Select(panel => (int)panel["id"]!).Distinct().Count());
        // Every query reads the data source picked in the dashboard's one variable, so an import works on any Prometheus.
        var variable = JsonNode.Parse(File.ReadAllText(Dashboard))!["templating"]!["list"]!.AsArray().Single()!;
        Assert.Equal(("datasource", "datasource", "prometheus"), ((string)variable["name"]!, (string)variable["type"]!, (string)variable["query"]!));
        Assert.All(panels.SelectMany(panel => panel["targets"]!.AsArray().Select(target => target!["datasource"]!).Append(panel["datasource"]!)),
            source => Assert.Equal(("prometheus", "${datasource}"), ((string)source["type"]!, (string)source["uid"]!)));
        // promtool parses expressions only inside rule files: each query becomes a recording rule, Grafana's interval
        // variable given a value as Grafana would.
        var file = Path.Combine(Path.GetTempPath(), $"dashboard-queries-{Guid.NewGuid():N}.yml");
        var rules = DashboardQueries(panels).Select((expr, i) =>
            $"      - record: dashboard:query_{i}\n        expr: '{expr.Replace("$__rate_interval", "5m", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal)}'\n");
        await File.WriteAllTextAsync(file, "groups:\n  - name: dashboard\n    rules:\n" + string.Concat(rules));
        try
        {
            await ExternalCommand.RunAsync(Promtool, ["check", "rules", file]);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Every_metric_the_rules_and_the_dashboard_name_is_exported_by_the_front_end_or_a_silo()
    {
        var expressions = RuleExpressions().Concat(DashboardQueries(DashboardPanels())).ToList();
        Assert.All(expressions, expr => Assert.Matches(MetricName(), expr));
        var named = expressions.SelectMany(expr => MetricName().Matches(expr).Select(match => match.Value)).Distinct().ToList();

        await fixture.RestoreBaselineAsync();
        var cluster = fixture.Cluster;
        var api = cluster.Api!.BaseAddress;
        // The A/B test's instruments count only while a candidate runs: the demo's other version serves half the users
        // meanwhile (every silo's catalogue cache has read it after its lifetime).
        var models = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri(api, "/models")))!;
        var active = (string)models["active"]!;
        var candidate = models["models"]!.AsArray().Select(model => (string)model!["version"]!).First(version => version != active);
        (await cluster.Http.PostAsync(new Uri(api, $"/models/{candidate}/candidate?share=0.5"), null)).EnsureSuccessStatusCode();
        var exported = new List<string>();
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            await SendEventsAndReadsAsync(cluster, $"monitoring-{Guid.NewGuid():N}", users: 6);
            exported.Add(await cluster.Http.GetStringAsync(new Uri(api, "/metrics")));
            foreach (var index in ClusterFixture.BaselineSilos)
                exported.Add(await cluster.Http.GetStringAsync(new Uri(cluster.Silos[index].BaseAddress, "/metrics")));
        }
        finally
        {
            using (await cluster.Http.DeleteAsync(new Uri(api, $"/models/{candidate}/candidate"))) { }
        }
        Assert.All(named, metric => Assert.Contains(exported, text => text.Contains($"\n{metric}{{", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_prometheus_scraping_the_cluster_evaluates_every_rule_without_alerting_and_fills_every_panel()
    {
        await fixture.RestoreBaselineAsync();
        var cluster = fixture.Cluster;
        var directory = Path.Combine(Path.GetTempPath(), $"recommender-prometheus-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var silos = ClusterFixture.BaselineSilos.Select(index => $"'{cluster.Silos[index].BaseAddress.Authority}'");
        await File.WriteAllTextAsync(Path.Combine(directory, "prometheus.yml"), $$"""
            global: { scrape_interval: 1s, evaluation_interval: 1s }
            rule_files: ['{{Rules}}']
            scrape_configs:
              - job_name: recommender-api
                static_configs: [{ targets: ['{{cluster.Api!.BaseAddress.Authority}}'] }]
              - job_name: recommender-silo
                static_configs: [{ targets: [{{string.Join(", ", silos)}}] }]
            """);
        var port = FreePorts.Next();
        using var prometheus = Process.Start(new ProcessStartInfo(Prometheus)
        {
            ArgumentList = { $"--config.file={Path.Combine(directory, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(directory, "data")}",
                $"--web.listen-address=127.0.0.1:{port}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var log = prometheus.StandardError.ReadToEndAsync();
        _ = prometheus.StandardOutput.ReadToEndAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            // Traffic through every path the rules and panels watch, while Prometheus scrapes: several scrapes of
            // growing counters give rate() its two samples.
            var run = Guid.NewGuid().ToString("N");
            var deadline = DateTime.UtcNow.AddSeconds(8);
            for (var round = 0; DateTime.UtcNow < deadline; round++)
            {
                await SendEventsAndReadsAsync(cluster, $"prometheus-{run}-{round}", users: 3);
                await Task.Delay(250);
            }

            var targets = await ApiDataAsync(http, "/api/v1/targets");
            Assert.All(targets["activeTargets"]!.AsArray(), target => Assert.Equal("up", (string)target!["health"]!));
            Assert.Equal(4, targets["activeTargets"]!.AsArray().Count);

            var rules = (await ApiDataAsync(http, "/api/v1/rules"))["groups"]!.AsArray().SelectMany(group => group!["rules"]!.AsArray()).ToList();
            Assert.Equal(RuleExpressions().Count, rules.Count);
            Assert.All(rules, rule => Assert.Equal(("ok", ""), ((string)rule!["health"]!, (string?)rule["lastError"] ?? "")));
            // No alert: a 500 would fire at once. A latency alert may be pending (its condition true, its ten minutes
            // not yet passed) when the busy test machine's first reads encode and load models; it cannot fire here.
            var alerts = (await ApiDataAsync(http, "/api/v1/alerts"))["alerts"]!.AsArray()
                .Select(alert => ((string)alert!["labels"]!["alertname"]!, (string)alert["state"]!)).ToList();
            Assert.True(alerts.All(alert => alert.Item2 == "pending" && LatencyAlerts.Contains(alert.Item1)),
                "Alerts: " + string.Join(", ", alerts.Select(alert => $"{alert.Item1} {alert.Item2}")));

            // Grafana's $__rate_interval is at least four scrape intervals.
            foreach (var query in DashboardQueries(DashboardPanels()))
            {
                var result = (await ApiDataAsync(http, "/api/v1/query?query=" + Uri.EscapeDataString(query.Replace("$__rate_interval", "4s", StringComparison.Ordinal))))["result"]!.AsArray();
                Assert.True(result.Count > 0, $"No data for the panel query {query}");
            }
        }
        finally
        {
            prometheus.Kill(entireProcessTree: true);
            await prometheus.WaitForExitAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// One batch of events for several users, which goes through the event journal, the users' recommendations (their
    /// histories hold demo movies, so the model serves them and the encoder runs on the silos), and a next event each.
    /// </summary>
    private static async Task SendEventsAndReadsAsync(LocalCluster cluster, string prefix, int users)
    {
        var api = cluster.Api!.BaseAddress;
        var ids = Enumerable.Range(0, users).Select(u => $"{prefix}-{u}").ToList();
        var events = ids.SelectMany(user => new[] { "1", "260", "1196" }.Select((item, i) =>
            new { userId = user, itemId = item, type = "view", timestamp = DateTimeOffset.UtcNow.AddMinutes(i - 10) }));
        (await cluster.Http.PostAsJsonAsync(new Uri(api, "/events"), events)).EnsureSuccessStatusCode();
        // The first user reads a list under a scenario, which the online counters label by name; it pins an item the user
        // has seen, which the list cannot place, and one it can.
        (await cluster.Http.PutAsJsonAsync(new Uri(api, "/scenarios/monitoring"), new { capEach = new[] { "*:3" }, pin = new[] { "1:1", "2571:4" } })).EnsureSuccessStatusCode();
        foreach (var user in ids)
        {
            // The second user's list has a slot an animated film fills and one of a tag no item carries.
            var scenario = user == ids[0] ? "&scenario=monitoring" : user == ids[1] ? "&slot=Animation:4&slot=no-such-tag:5" : "";
            using var recommendations = await cluster.Http.GetAsync(new Uri(api, $"/users/{user}/recommendations?k=5{scenario}"));
            recommendations.EnsureSuccessStatusCode();
            // The user's next event is the first item recommended: the silo counts it against the list, at rank 1; the
            // user dismisses the second and buys the third, counted as a dismissed and a purchased item of the list, with
            // the amount paid.
            var items = JsonNode.Parse(await recommendations.Content.ReadAsStringAsync())!["items"]!.AsArray();
            (await cluster.Http.PostAsJsonAsync(new Uri(api, "/events"), new object[]
            {
                new { userId = user, itemId = items[0]!["id"]!.GetValue<string>(), type = "click", timestamp = DateTimeOffset.UtcNow },
                new { userId = user, itemId = items[1]!["id"]!.GetValue<string>(), type = "dismiss", timestamp = DateTimeOffset.UtcNow.AddMilliseconds(1) },
                new { userId = user, itemId = items[2]!["id"]!.GetValue<string>(), type = "purchase", timestamp = DateTimeOffset.UtcNow.AddMilliseconds(2), value = 9.5 },
            })).EnsureSuccessStatusCode();
        }
    }

    /// <summary>The data of an answer of Prometheus' HTTP API, once it answers at all (it starts in about a second).</summary>
    private static async Task<JsonNode> ApiDataAsync(HttpClient http, string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var answer = JsonNode.Parse(await http.GetStringAsync(path))!;
                Assert.Equal("success", (string)answer["status"]!);
                return answer["data"]!;
            }
            catch (HttpRequestException) when (attempt < 50)
            {
                await Task.Delay(200);
            }
        }
    }

    // The alerts on a latency percentile, each held ten minutes before it fires.
    private static readonly string[] LatencyAlerts = ["RecommenderSlowRecommendations", "RecommenderEncoderQueueing", "RecommenderSlowStorageWrites"];

    private static List<string> RuleExpressions()
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(Rules))
            yaml.Load(reader);
        var groups = (YamlSequenceNode)((YamlMappingNode)yaml.Documents[0].RootNode)["groups"];
        return groups.Cast<YamlMappingNode>()
            .SelectMany(group => ((YamlSequenceNode)group["rules"]).Cast<YamlMappingNode>())
            .Select(rule => ((YamlScalarNode)rule["expr"]).Value!)
            .ToList();
    }

    private static List<JsonNode> DashboardPanels() =>
        JsonNode.Parse(File.ReadAllText(Dashboard))!["panels"]!.AsArray().Select(panel => panel!).ToList();

    private static List<string> DashboardQueries(IEnumerable<JsonNode> panels) =>
        panels.SelectMany(panel => panel["targets"]!.AsArray()).Select(target => (string)target!["expr"]!).ToList();

    // The families of the names the files use; PromQL's functions and the label names are not of them.
    [GeneratedRegex(@"\b(?:recommender|orleans|http_server|dotnet)_[a-z0-9_]+")]
    private static partial Regex MetricName();
}

using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Recommender.Deployment.Tests;

/// <summary>
/// deploy/prometheus and deploy/grafana: the alerting rules are valid and pass their own unit tests in Prometheus' rule
/// checker, the dashboard's queries are valid PromQL, and every metric either names is one the cluster's processes
/// export (a renamed instrument would leave an alert that never fires and a panel that stays empty).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class MonitoringFilesTests(ClusterFixture fixture)
{
    private static readonly string Rules = RepositoryPaths.Deploy("prometheus", "recommender-alerts.yml");
    private static readonly string Dashboard = RepositoryPaths.Deploy("grafana", "recommender-dashboard.json");

    // tests/run.sh installs Debian's prometheus package for it when missing.
    private static string Promtool => Environment.GetEnvironmentVariable("RECOMMENDER_PROMTOOL") is { Length: > 0 } path ? path : "promtool";

    [Fact]
    public async Task The_rules_are_valid_and_fire_as_their_unit_tests_expect()
    {
        await ExternalCommand.RunAsync(Promtool, ["check", "rules", Rules]);
        await ExternalCommand.RunAsync(Promtool, ["test", "rules", RepositoryPaths.Deploy("prometheus", "recommender-alerts.test.yml")]);
    }

    [Fact]
    public async Task The_dashboards_queries_are_valid_PromQL()
    {
        var panels = DashboardPanels();
        Assert.Equal(panels.Count, panels.Select(panel => (int)panel["id"]!).Distinct().Count());
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
        // A batch for several users goes through the event journal; users with demo movies get the model's
        // recommendations, which run the encoder on the silos.
        var run = Guid.NewGuid().ToString("N")[..8];
        var users = Enumerable.Range(0, 6).Select(u => $"monitoring-{run}-{u}").ToList();
        var events = users.SelectMany(user => new[] { "1", "260", "1196" }.Select((item, i) =>
            new { userId = user, itemId = item, type = "view", timestamp = DateTimeOffset.UtcNow.AddMinutes(i - 10) }));
        (await cluster.Http.PostAsJsonAsync(new Uri(api, "/events"), events)).EnsureSuccessStatusCode();
        foreach (var user in users)
            (await cluster.Http.GetAsync(new Uri(api, $"/users/{user}/recommendations?k=5"))).EnsureSuccessStatusCode();

        var exported = new List<string> { await cluster.Http.GetStringAsync(new Uri(api, "/metrics")) };
        foreach (var index in ClusterFixture.BaselineSilos)
            exported.Add(await cluster.Http.GetStringAsync(new Uri(cluster.Silos[index].BaseAddress, "/metrics")));
        Assert.All(named, metric => Assert.Contains(exported, text => text.Contains($"\n{metric}{{", StringComparison.Ordinal)));
    }

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

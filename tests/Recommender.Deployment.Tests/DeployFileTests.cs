using System.Reflection;
using System.Text.RegularExpressions;
using Recommender.Hosting;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Recommender.Deployment.Tests;

/// <summary>
/// The files under deploy/ without a container engine: the YAML parses, the paths they name exist,
/// and every configuration variable they set is a real key of the options the hosts bind.
/// </summary>
public sealed partial class DeployFileTests
{
    /// <summary>Variables that are not configuration keys of ours: pod identity, runtime and database image settings.</summary>
    private static readonly HashSet<string> OtherVariables =
    [
        "POD_NAME", "POD_IP", "ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "DOTNET_gcServer",
        "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD", "CONNECTION_STRING",
        // Read by the front end's API-key check (Recommender.Api.Security.ApiKeys), not bound to an options class.
        "Recommender__ApiKeys__Admin", "Recommender__ApiKeys__Client",
        // Read by the OpenTelemetry SDK, and checked by NodeTelemetry.
        NodeTelemetry.EndpointKey, NodeTelemetry.ProtocolKey, NodeTelemetry.SamplerKey, NodeTelemetry.SamplerArgumentKey,
        NodeTelemetry.TracesExporterKey, NodeTelemetry.MetricsExporterKey, NodeTelemetry.LogsExporterKey,
    ];

    [Fact]
    public void Compose_file_parses_and_sets_only_real_configuration_keys()
    {
        var compose = LoadYaml(RepositoryPaths.Deploy("docker-compose.yml")).Single();
        var services = (YamlMappingNode)compose["services"];
        Assert.Equal(["api", "grafana", "postgres", "prometheus", "retrain", "silo1", "silo2", "silo3"], services.Children.Keys.Select(k => k.ToString()).Order());

        var names = new List<string>();
        foreach (var (name, node) in services.Children)
        {
            var service = (YamlMappingNode)node;
            // The retraining job's variables are its script's, checked below.
            if (name.ToString() != "retrain" && service.Children.TryGetValue("environment", out var environment))
            {
                names.AddRange(((YamlMappingNode)environment).Children.Keys.Select(k => k.ToString()).Where(k => k != "<<"));
            }
            if (service.Children.TryGetValue("build", out var build))
            {
                var context = Path.GetFullPath(Path.Combine(RepositoryPaths.Deploy(), build["context"].ToString()));
                Assert.Equal(RepositoryPaths.Root, context);
                Assert.True(File.Exists(Path.Combine(context, build["dockerfile"].ToString())), $"{name}: Dockerfile missing");
            }
            if (service.Children.TryGetValue("volumes", out var volumes))
            {
                foreach (var mount in ((YamlSequenceNode)volumes).Select(v => v.ToString().Split(':')[0]).Where(v => v.StartsWith("./")))
                {
                    Assert.True(File.Exists(RepositoryPaths.Deploy(mount[2..])), $"{name}: mounted file {mount} missing");
                }
            }
        }
        foreach (var silo in new[] { "silo1", "silo2", "silo3" })
        {
            var environment = (YamlMappingNode)services[silo]["environment"];
            Assert.Equal("AdoNet", environment["Recommender__Clustering__Mode"].ToString());
            Assert.Equal("Npgsql", environment["Recommender__Storage__Invariant"].ToString());
        }
        Assert.Equal("Cluster", ((YamlMappingNode)services["api"]["environment"])["Recommender__Mode"].ToString());
        AssertKnownKeys("docker-compose.yml", names);

        // The retraining job reaches the front end on its container port, and places packages on the silos' volume at
        // the place they read them.
        var retrain = (YamlMappingNode)services["retrain"];
        Assert.Equal(["bash", "/app/retrain.sh"], ((YamlSequenceNode)retrain["entrypoint"]).Select(e => e.ToString()));
        var script = File.ReadAllText(RepositoryPaths.Deploy("retrain.sh"));
        var jobEnvironment = (YamlMappingNode)retrain["environment"];
        foreach (var name in jobEnvironment.Children.Keys.Select(k => k.ToString()))
            Assert.True(Regex.IsMatch(script, $@"\$\{{{name}\b"), $"retrain.sh does not read {name}");
        var address = new Uri(jobEnvironment["API"].ToString());
        Assert.Equal("api", address.Host);
        Assert.Equal(HttpPort(RepositoryPaths.Deploy("docker", "Dockerfile.api")), address.Port.ToString());
        var siloVolume = ((YamlSequenceNode)services["silo1"]["volumes"]).Single().ToString();
        Assert.Equal(siloVolume, ((YamlSequenceNode)retrain["volumes"]).Single().ToString());
        var dataDirectory = Regex.Match(File.ReadAllText(RepositoryPaths.Deploy("docker", "Dockerfile.silo")), @"Recommender__DataDirectory=(\S+)").Groups[1].Value;
        Assert.Equal(siloVolume.Split(':')[1], dataDirectory);
        Assert.Equal($"{dataDirectory}/models/.incoming", jobEnvironment["INCOMING"].ToString());
    }

    [Fact]
    public void Compose_monitoring_profile_scrapes_every_recommender_process_and_provisions_the_dashboard()
    {
        var services = (YamlMappingNode)LoadYaml(RepositoryPaths.Deploy("docker-compose.yml")).Single()["services"];
        // A plain "up" starts the cluster alone.
        foreach (var monitoring in new[] { "prometheus", "grafana" })
            Assert.Equal("monitoring", ((YamlSequenceNode)services[monitoring]["profiles"]).Single().ToString());

        // Every process built from the recommender's Dockerfiles is scraped on the HTTP port its image listens on, but
        // the retraining job, which runs on demand (its own profile) and serves nothing.
        Assert.Equal("retrain", ((YamlSequenceNode)services["retrain"]["profiles"]).Single().ToString());
        var recommenderServices = services.Children.Where(service => ((YamlMappingNode)service.Value).Children.ContainsKey("build") && service.Key.ToString() != "retrain")
            .Select(service => service.Key.ToString()).Order().ToList();
        Assert.Equal(["api", "silo1", "silo2", "silo3"], recommenderServices);
        var port = HttpPort(RepositoryPaths.Deploy("docker", "Dockerfile.silo"));
        Assert.Equal(port, HttpPort(RepositoryPaths.Deploy("docker", "Dockerfile.api")));
        var prometheus = LoadYaml(RepositoryPaths.Deploy("prometheus", "compose-prometheus.yml")).Single();
        var targets = ((YamlSequenceNode)prometheus["scrape_configs"]).Cast<YamlMappingNode>()
            .SelectMany(job => ((YamlSequenceNode)job["static_configs"]).Cast<YamlMappingNode>())
            .SelectMany(config => ((YamlSequenceNode)config["targets"]).Select(target => target.ToString())).Order().ToList();
        Assert.Equal(recommenderServices.Select(service => $"{service}:{port}"), targets);
        // The rules it loads are the ones beside it, mounted beside it.
        Assert.Equal("recommender-alerts.yml", ((YamlSequenceNode)prometheus["rule_files"]).Single().ToString());
        var prometheusMounts = Mounts(services["prometheus"]);
        Assert.Equal("/etc/prometheus/prometheus.yml", prometheusMounts["./prometheus/compose-prometheus.yml"]);
        Assert.Equal("/etc/prometheus/recommender-alerts.yml", prometheusMounts["./prometheus/recommender-alerts.yml"]);

        // Grafana reads that Prometheus and loads the dashboard from where it is mounted.
        var datasource = (YamlMappingNode)((YamlSequenceNode)LoadYaml(RepositoryPaths.Deploy("grafana", "provisioning", "datasources.yml")).Single()["datasources"]).Single();
        var prometheusPort = ((YamlSequenceNode)services["prometheus"]["ports"]).Single().ToString().Split(':')[1];
        Assert.Equal(("prometheus", $"http://prometheus:{prometheusPort}"), (datasource["type"].ToString(), datasource["url"].ToString()));
        var provider = (YamlMappingNode)((YamlSequenceNode)LoadYaml(RepositoryPaths.Deploy("grafana", "provisioning", "dashboards.yml")).Single()["providers"]).Single();
        var grafanaMounts = Mounts(services["grafana"]);
        Assert.Equal(provider["options"]["path"].ToString() + "/recommender-dashboard.json", grafanaMounts["./grafana/recommender-dashboard.json"]);
        Assert.StartsWith("/etc/grafana/provisioning/datasources/", grafanaMounts["./grafana/provisioning/datasources.yml"]);
        Assert.StartsWith("/etc/grafana/provisioning/dashboards/", grafanaMounts["./grafana/provisioning/dashboards.yml"]);
    }

    /// <summary>A compose service's bind mounts of repository files: host path (relative to deploy/) to container path.</summary>
    private static Dictionary<string, string> Mounts(YamlNode service) =>
        ((YamlSequenceNode)service["volumes"]).Select(volume => volume.ToString().Split(':'))
            .Where(parts => parts[0].StartsWith("./", StringComparison.Ordinal)).ToDictionary(parts => parts[0], parts => parts[1]);

    private static string HttpPort(string dockerfile) =>
        Regex.Match(File.ReadAllText(dockerfile), @"ASPNETCORE_HTTP_PORTS=(\d+)") is { Success: true } match ? match.Groups[1].Value
            : throw new InvalidOperationException($"{dockerfile} sets no ASPNETCORE_HTTP_PORTS.");

    [Fact]
    public void Kubernetes_manifests_parse_and_wire_probes_identity_and_keys()
    {
        var documents = Directory.GetFiles(RepositoryPaths.Deploy("kubernetes"), "*.yaml").Order()
            .SelectMany(LoadYaml).ToList();
        var byKind = documents.GroupBy(d => d["kind"].ToString()).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var kind in new[] { "Namespace", "ConfigMap", "Secret", "Deployment", "PodDisruptionBudget", "Service", "Job" })
        {
            Assert.True(byKind.ContainsKey(kind), $"no {kind} manifest");
        }
        foreach (var document in documents.Where(d => d["kind"].ToString() != "Namespace"))
        {
            Assert.Equal("recommender", document["metadata"]["namespace"].ToString());
        }

        var names = new List<string>();
        names.AddRange(byKind["ConfigMap"].SelectMany(c => ((YamlMappingNode)c["data"]).Children.Keys.Select(k => k.ToString())));
        var silo = byKind["Deployment"].Single(d => d["metadata"]["name"].ToString() == "recommender-silo");
        var api = byKind["Deployment"].Single(d => d["metadata"]["name"].ToString() == "recommender-api");
        foreach (var deployment in new[] { silo, api })
        {
            var container = (YamlMappingNode)((YamlSequenceNode)deployment["spec"]["template"]["spec"]["containers"]).Single();
            Assert.Equal("/health/ready", container["readinessProbe"]["httpGet"]["path"].ToString());
            Assert.Equal("/health/live", container["livenessProbe"]["httpGet"]["path"].ToString());
            // Both kinds of process serve /metrics on their HTTP port; the scrape annotations must point there.
            var annotations = (YamlMappingNode)deployment["spec"]["template"]["metadata"]["annotations"];
            var httpPort = ((YamlSequenceNode)container["ports"]).Cast<YamlMappingNode>().Single(p => p["name"].ToString() == "http")["containerPort"].ToString();
            Assert.Equal(("true", httpPort, "/metrics"),
                (annotations["prometheus.io/scrape"].ToString(), annotations["prometheus.io/port"].ToString(), annotations["prometheus.io/path"].ToString()));
            var env = ((YamlSequenceNode)container["env"]).Cast<YamlMappingNode>().ToList();
            names.AddRange(env.Select(e => e["name"].ToString()));
            if (deployment == silo)
            {
                Assert.Equal("metadata.name", FieldRef(env, "POD_NAME"));
                Assert.Equal("status.podIP", FieldRef(env, "POD_IP"));
                Assert.Equal("$(POD_NAME)", env.Single(e => e["name"].ToString() == "Orleans__SiloName")["value"].ToString());
                // Every silo opens the active model package from the data directory: it must be one shared volume.
                var volume = ((YamlSequenceNode)deployment["spec"]["template"]["spec"]["volumes"]).Cast<YamlMappingNode>().Single(v => v["name"].ToString() == "data");
                var claim = byKind["PersistentVolumeClaim"].Single(c => c["metadata"]["name"].ToString() == volume["persistentVolumeClaim"]["claimName"].ToString());
                Assert.Equal("ReadWriteMany", ((YamlSequenceNode)claim["spec"]["accessModes"]).Single().ToString());
            }
        }

        var podLabels = (YamlMappingNode)silo["spec"]["template"]["metadata"]["labels"];
        var budget = byKind["PodDisruptionBudget"].Single();
        foreach (var (key, value) in (YamlMappingNode)budget["spec"]["selector"]["matchLabels"])
        {
            Assert.Equal(value.ToString(), podLabels[key].ToString());
        }
        var service = byKind["Service"].Single();
        var apiLabels = (YamlMappingNode)api["spec"]["template"]["metadata"]["labels"];
        foreach (var (key, value) in (YamlMappingNode)service["spec"]["selector"])
        {
            Assert.Equal(value.ToString(), apiLabels[key].ToString());
        }
        AssertKnownKeys("kubernetes", names);
    }

    [Fact]
    public void Dockerfiles_copy_existing_paths_and_start_the_built_assemblies()
    {
        foreach (var (file, project) in new[] { ("Dockerfile.silo", "Recommender.Silo"), ("Dockerfile.api", "Recommender.Api") })
        {
            var lines = File.ReadAllLines(RepositoryPaths.Deploy("docker", file));
            var stages = lines.Where(l => l.StartsWith("FROM ")).ToList();
            Assert.Contains(stages, s => s.Contains("dotnet/sdk:10.0"));
            Assert.Contains(stages, s => s.Contains("dotnet/aspnet:10.0"));
            Assert.Contains(lines, l => l.StartsWith("USER ") && !l.Contains("root"));
            Assert.Contains(lines, l => l.StartsWith("HEALTHCHECK "));
            Assert.Contains(lines, l => l.StartsWith("ENTRYPOINT") && l.Contains($"\"{project}.dll\""));
            AssertCopySourcesExist(file, lines);
            var environment = lines.SkipWhile(l => !l.StartsWith("ENV ")).TakeWhile(l => l.StartsWith("ENV ") || l.StartsWith("    "))
                .SelectMany(l => EnvironmentAssignment().Matches(l).Select(m => m.Groups[1].Value));
            AssertKnownKeys(file, environment);
        }
    }

    [Fact]
    public void Command_line_image_ships_the_tool_and_the_retraining_job()
    {
        var lines = File.ReadAllLines(RepositoryPaths.Deploy("docker", "Dockerfile.cli"));
        var stages = lines.Where(l => l.StartsWith("FROM ")).ToList();
        Assert.Contains(stages, s => s.Contains("dotnet/sdk:10.0"));
        Assert.Contains(stages, s => s.Contains("dotnet/runtime:10.0"));
        Assert.Contains(lines, l => l.StartsWith("USER ") && !l.Contains("root"));
        Assert.Contains(lines, l => l.StartsWith("ENTRYPOINT") && l.Contains("/app/recommender.dll\""));
        Assert.Contains(lines, l => l.StartsWith("RUN dotnet publish src/Recommender.Cli/Recommender.Cli.csproj"));
        Assert.Contains("COPY deploy/retrain.sh /app/retrain.sh", lines);
        AssertCopySourcesExist("Dockerfile.cli", lines);
        // The tool references the model library alone; the restore layer must hold every project it builds.
        var references = Regex.Matches(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "src", "Recommender.Cli", "Recommender.Cli.csproj")), @"ProjectReference Include=""\.\.\\(\w[\w.]*)\\")
            .Select(m => m.Groups[1].Value);
        foreach (var project in references.Append("Recommender.Cli"))
            Assert.Contains($"COPY src/{project}/{project}.csproj src/{project}/", lines);
        Assert.True(File.Exists(RepositoryPaths.Deploy("docker", "Dockerfile.cli.dockerignore")));
    }

    [Fact]
    public void Retraining_cron_job_runs_the_script_in_the_image_with_its_own_settings_and_the_admin_key()
    {
        var documents = Directory.GetFiles(RepositoryPaths.Deploy("kubernetes"), "*.yaml").Order().SelectMany(LoadYaml).ToList();
        var job = documents.Single(d => d["kind"].ToString() == "CronJob");
        Assert.Equal("Forbid", job["spec"]["concurrencyPolicy"].ToString());
        var pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        Assert.Equal("Never", pod["restartPolicy"].ToString());
        var container = (YamlMappingNode)((YamlSequenceNode)pod["containers"]).Single();
        // The image the Dockerfile's build line tags, running the script it copies in.
        var dockerfile = File.ReadAllText(RepositoryPaths.Deploy("docker", "Dockerfile.cli"));
        var tag = Regex.Match(dockerfile, @"docker build -f deploy/docker/Dockerfile.cli -t (\S+) \.").Groups[1].Value;
        Assert.Equal($"{tag}:latest", container["image"].ToString());
        Assert.Equal(["bash", "/app/retrain.sh"], ((YamlSequenceNode)container["command"]).Select(c => c.ToString()));

        // Every variable it sets is one the script (or, for the key, the tool) reads.
        var script = File.ReadAllText(RepositoryPaths.Deploy("retrain.sh"));
        var env = ((YamlSequenceNode)container["env"]).Cast<YamlMappingNode>().ToList();
        foreach (var name in env.Select(e => e["name"].ToString()))
            Assert.True(name == "RECOMMENDER_API_KEY" ? script.Contains("RECOMMENDER_API_KEY") : Regex.IsMatch(script, $@"\$\{{{name}\b"), $"retrain.sh does not read {name}");
        // The key comes from the front ends' secret, and the address is the front ends' Service.
        var key = env.Single(e => e["name"].ToString() == "RECOMMENDER_API_KEY")["valueFrom"]["secretKeyRef"];
        var secret = documents.Single(d => d["kind"].ToString() == "Secret" && d["metadata"]["name"].ToString() == key["name"].ToString());
        Assert.True(((YamlMappingNode)secret["stringData"]).Children.ContainsKey(key["key"].ToString()));
        var api = documents.Single(d => d["kind"].ToString() == "Deployment" && d["metadata"]["name"].ToString() == "recommender-api");
        Assert.Contains(((YamlSequenceNode)api["spec"]["template"]["spec"]["containers"]).Cast<YamlMappingNode>().SelectMany(c => ((YamlSequenceNode)c["env"]).Cast<YamlMappingNode>()),
            e => e["name"].ToString() == "Recommender__ApiKeys__Admin" && e["valueFrom"]["secretKeyRef"]["name"].ToString() == key["name"].ToString() && e["valueFrom"]["secretKeyRef"]["key"].ToString() == key["key"].ToString());
        var service = documents.Single(d => d["kind"].ToString() == "Service" && d["metadata"]["name"].ToString() == "recommender-api");
        var address = new Uri(env.Single(e => e["name"].ToString() == "API")["value"].ToString());
        Assert.Equal($"{service["metadata"]["name"]}.{service["metadata"]["namespace"]}.svc", address.Host);
        Assert.Equal(((YamlSequenceNode)service["spec"]["ports"]).Cast<YamlMappingNode>().Single()["port"].ToString(), address.Port.ToString());
        // The work directory is a volume of its own; the incoming directory is under the silos' data volume, at the
        // place the silos read it ({DataDirectory}/models/.incoming).
        var mounts = ((YamlSequenceNode)container["volumeMounts"]).Cast<YamlMappingNode>().ToList();
        string MountedClaimOf(string path)
        {
            var mount = mounts.Single(m => path.StartsWith(m["mountPath"].ToString() + "/", StringComparison.Ordinal));
            var volume = ((YamlSequenceNode)pod["volumes"]).Cast<YamlMappingNode>().Single(v => v["name"].ToString() == mount["name"].ToString());
            return volume.Children.ContainsKey("persistentVolumeClaim") ? volume["persistentVolumeClaim"]["claimName"].ToString() : "";
        }
        Assert.Equal("", MountedClaimOf(env.Single(e => e["name"].ToString() == "WORK")["value"].ToString()));
        var incoming = env.Single(e => e["name"].ToString() == "INCOMING")["value"].ToString();
        var silo = documents.Single(d => d["kind"].ToString() == "Deployment" && d["metadata"]["name"].ToString() == "recommender-silo");
        var siloPod = silo["spec"]["template"]["spec"];
        var siloMount = ((YamlSequenceNode)((YamlMappingNode)((YamlSequenceNode)siloPod["containers"]).Single())["volumeMounts"]).Cast<YamlMappingNode>().Single(m => m["name"].ToString() == "data");
        var siloClaim = ((YamlSequenceNode)siloPod["volumes"]).Cast<YamlMappingNode>().Single(v => v["name"].ToString() == "data")["persistentVolumeClaim"]["claimName"].ToString();
        Assert.Equal(siloClaim, MountedClaimOf(incoming));
        var config = documents.Single(d => d["kind"].ToString() == "ConfigMap" && d["metadata"]["name"].ToString() == "recommender-config");
        Assert.Equal(siloMount["mountPath"].ToString(), config["data"]["Recommender__DataDirectory"].ToString());
        Assert.Equal($"{siloMount["mountPath"]}/models/.incoming", incoming);
        Assert.Equal(siloPod["securityContext"]["runAsUser"].ToString(), pod["securityContext"]["runAsUser"].ToString());
    }

    [Fact]
    public void Local_cluster_script_uses_real_configuration_keys()
    {
        var script = File.ReadAllText(RepositoryPaths.Deploy("local-cluster.sh"));
        var names = ConfigurationVariable().Matches(script).Select(m => m.Value).Distinct().ToList();
        Assert.Contains("Recommender__Clustering__ConnectionString", names);
        AssertKnownKeys("local-cluster.sh", names);
    }

    /// <summary>Every source of a COPY from the build context (the repository root) exists.</summary>
    private static void AssertCopySourcesExist(string file, IEnumerable<string> lines)
    {
        foreach (var copy in lines.Where(l => l.StartsWith("COPY ") && !l.Contains("--from")))
        {
            var parts = copy.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            foreach (var source in parts[1..^1])
            {
                var path = Path.Combine(RepositoryPaths.Root, source);
                Assert.True(File.Exists(path) || Directory.Exists(path), $"{file}: COPY source {source} missing");
            }
        }
    }

    private static string? FieldRef(List<YamlMappingNode> env, string name) =>
        env.Single(e => e["name"].ToString() == name)["valueFrom"]["fieldRef"]["fieldPath"].ToString();

    /// <summary>Each "A__B__C" variable must name a property path of the options bound from section A.</summary>
    private static void AssertKnownKeys(string source, IEnumerable<string> variables)
    {
        var unknown = new List<string>();
        foreach (var variable in variables.Distinct())
        {
            if (OtherVariables.Contains(variable))
            {
                continue;
            }
            var path = variable.Split("__");
            var root = path[0] switch
            {
                RecommenderOptions.Section => typeof(RecommenderOptions),
                OrleansEndpointOptions.Section => typeof(OrleansEndpointOptions),
                _ => null,
            };
            if (root is null || !ResolvesTo(root, path[1..]))
            {
                unknown.Add(variable);
            }
        }
        Assert.True(unknown.Count == 0, $"{source} sets variables that no options class binds: {string.Join(", ", unknown)}");
    }

    private static bool ResolvesTo(Type type, string[] path)
    {
        foreach (var segment in path)
        {
            var property = type.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null || !property.CanWrite)
            {
                return false;
            }
            type = property.PropertyType;
        }
        return path.Length > 0;
    }

    private static IEnumerable<YamlMappingNode> LoadYaml(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        // The merging parser resolves "<<: *anchor" the way docker compose does.
        stream.Load(new MergingParser(new Parser(reader)));
        Assert.NotEmpty(stream.Documents);
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode);
    }

    [GeneratedRegex(@"\b((?:Recommender|Orleans|ASPNETCORE|DOTNET)_\w+)=")]
    private static partial Regex EnvironmentAssignment();

    [GeneratedRegex(@"\b(?:Recommender|Orleans)__\w+")]
    private static partial Regex ConfigurationVariable();
}

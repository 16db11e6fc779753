using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Recommender.Cli;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Cluster.Tests.Serving;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;
using Recommender.Model.Sasrec;

namespace Recommender.Cluster.Tests.Api;

/// <summary>
/// `recommender publish` against a cluster's front end on Kestrel: a package is registered and served, a second run
/// completes what is missing and sends nothing twice, a version registered with another package is refused, the
/// gates hold a worse package back (before sending it, or registered but not served), and publishing needs an admin key.
/// </summary>
public sealed class PublishCommandTests(PublishCommandTests.Cluster cluster) : IClassFixture<PublishCommandTests.Cluster>, IDisposable
{
    private const string AdminKey = "admin-publish-0123456789abcdef01";
    private const string ClientKey = "client-publish-0123456789abcdef0";
    private static readonly string[] Catalogue = ["p-1", "p-2", "p-3", "p-4", "p-5", "p-6"];
    private readonly string _directory = Directory.CreateTempSubdirectory("recommender-publish-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>One silo without the demo.</summary>
    public sealed class Cluster() : ClusterFixture(new ClusterFixtureOptions { Silos = 1, SeedDemo = false });

    /// <summary>The six items in the catalogue (a write replaces an item, so each test may ask).</summary>
    private async Task CatalogueAsync()
    {
        using var items = await cluster.Http.PostAsJsonAsync("/items", Catalogue.Select(id => new { id, title = $"Item {id}" }));
        Assert.True(items.IsSuccessStatusCode, await items.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_package_is_registered_and_served_and_a_second_run_sends_nothing_twice()
    {
        await CatalogueAsync();
        var version = Version("served");
        var package = Package(version, Catalogue, 0.21);

        var (exit, output, error) = await Publish("--package", package, "--activate");
        Assert.True(exit == 0, error);
        Assert.Contains($"registered {version}: sasrec, 6 items, dimension 16, max length 20, items by id, val_ndcg@10 0.21", output);
        Assert.Contains($"active: {version}", output);
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        Assert.Equal(version, models.Active);
        Assert.Equal(0.21, models.Models.Single(m => m.Version == version).Metrics!["val_ndcg@10"]);

        // What serves is the package: a user's list comes from the model, over the catalogue's items.
        var user = $"user-{version}";
        using (var events = await cluster.Http.PostAsJsonAsync("/events", new[] { new { userId = user, itemId = "p-1", type = "view" }, new { userId = user, itemId = "p-2", type = "view" } }))
            Assert.True(events.IsSuccessStatusCode, await events.Content.ReadAsStringAsync());
        var list = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=3");
        Assert.Equal("model", list.Source);
        Assert.Equal(3, list.Items.Count);
        Assert.All(list.Items, i => Assert.Contains(i.Id, Catalogue[2..]));

        // A second run (as after a lost answer) finds the version there with this package's description, and its
        // activation changes nothing.
        (exit, output, error) = await Publish("--package", package, "--activate");
        Assert.True(exit == 0, error);
        Assert.Contains($"{version} is registered already with this package's description", output);
        Assert.DoesNotContain("registered " + version + ":", output);
        Assert.Contains($"active: {version}", output);
        Assert.Equal(version, (await cluster.GetJsonAsync<ModelsReply>("/models")).Active);
    }

    [Fact]
    public async Task A_version_registered_with_another_package_is_refused_and_nothing_changes()
    {
        var active = (await cluster.GetJsonAsync<ModelsReply>("/models")).Active;
        var version = Version("taken");
        var (exit, _, error) = await Publish("--package", Package(version, Catalogue[..4], 0.1));
        Assert.True(exit == 0, error);
        var registered = await cluster.GetJsonAsync<ModelReply>($"/models/{version}");
        Assert.Equal(4, registered.ItemCount);
        Assert.Equal("registered", registered.State);

        (exit, _, error) = await Publish("--package", Package(version, Catalogue, 0.1, directory: "other"), "--activate");
        Assert.Equal(1, exit);
        Assert.Contains($"version {version} is registered already with another package (items 4 there, 6 here)", error);
        Assert.Equal(4, (await cluster.GetJsonAsync<ModelReply>($"/models/{version}")).ItemCount);
        Assert.Equal(active, (await cluster.GetJsonAsync<ModelsReply>("/models")).Active);
    }

    [Fact]
    public async Task The_gates_hold_a_worse_package_back_and_the_tolerance_lets_it_through()
    {
        await CatalogueAsync();
        var champion = Version("champion");
        var (exit, _, error) = await Publish("--package", Package(champion, Catalogue, 0.30), "--activate");
        Assert.True(exit == 0, error);
        var challenger = Version("challenger");
        var package = Package(challenger, Catalogue, 0.20);

        // Below a floor: nothing is sent.
        (exit, _, error) = await Publish("--package", package, "--activate", "--min-metric", "val_ndcg@10=0.25");
        Assert.Equal(PublishCommand.HeldBack, exit);
        Assert.Contains("held back: the package's val_ndcg@10 is 0.2, below --min-metric 0.25; nothing was sent.", error);
        using (var missing = await cluster.Http.GetAsync($"/models/{challenger}"))
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        // A metric the manifest lacks is an error, not a pass.
        (exit, _, error) = await Publish("--package", package, "--min-metric", "test_ndcg@10=0.1");
        Assert.Equal(1, exit);
        Assert.Contains("the package's manifest has no metric 'test_ndcg@10'; it has val_ndcg@10", error);

        // Below the active version: registered, not served.
        (exit, var output, error) = await Publish("--package", package, "--activate", "--min-metric", "val_ndcg@10=0.15", "--compare-with-active", "val_ndcg@10");
        Assert.Equal(PublishCommand.HeldBack, exit);
        Assert.Contains($"registered {challenger}", output);
        Assert.Contains($"held back: {challenger}'s val_ndcg@10 is 0.2, the active {champion}'s 0.3", error);
        Assert.Equal("registered", (await cluster.GetJsonAsync<ModelReply>($"/models/{challenger}")).State);
        Assert.Equal(champion, (await cluster.GetJsonAsync<ModelsReply>("/models")).Active);

        // Within the tolerance it serves.
        (exit, output, error) = await Publish("--package", package, "--activate", "--compare-with-active", "val_ndcg@10", "--tolerance", "0.15");
        Assert.True(exit == 0, error);
        Assert.Contains($"val_ndcg@10: 0.2 for {challenger}, 0.3 for the active {champion}; activating {challenger}.", output);
        Assert.Contains($"active: {challenger} (before: {champion})", output);
        Assert.Equal(challenger, (await cluster.GetJsonAsync<ModelsReply>("/models")).Active);
    }

    [Fact]
    public async Task A_package_replaces_an_active_version_that_has_no_such_metric()
    {
        await CatalogueAsync();
        var unscored = Version("unscored");
        // It records another metric but not val_ndcg@10, which the comparison must not read as 0.
        var (exit, _, error) = await Publish("--package", Package(unscored, Catalogue, 0.5, metric: "val_hr@10"), "--activate");
        Assert.True(exit == 0, error);
        var scored = Version("scored");
        (exit, var output, error) = await Publish("--package", Package(scored, Catalogue, 0.01), "--activate", "--compare-with-active", "val_ndcg@10");
        Assert.True(exit == 0, error);
        Assert.Contains($"the active version {unscored} has no val_ndcg@10 to compare with; activating {scored}.", output);
        Assert.Equal(scored, (await cluster.GetJsonAsync<ModelsReply>("/models")).Active);
    }

    [Fact]
    public async Task Publishing_needs_an_admin_key_and_a_whole_package()
    {
        var (api, address) = await cluster.StartFrontEndAsync(new Dictionary<string, string?>
        {
            ["Recommender:ApiKeys:Admin"] = AdminKey,
            ["Recommender:ApiKeys:Client:0"] = ClientKey,
        });
        await using var frontEnd = api;
        var version = Version("keyed");
        var package = Package(version, Catalogue, 0.1);

        var (exit, _, error) = await Publish("--package", package, "--api", address.ToString(), "--api-key", ClientKey);
        Assert.Equal(1, exit);
        Assert.Contains("models answered 403", error);
        Assert.Contains("Publishing needs an admin key of the cluster", error);
        using (var missing = await cluster.Http.GetAsync($"/models/{version}"))
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        // A list of keys, as the cluster's settings and secrets hold them: the first is sent.
        (exit, var output, error) = await Publish("--package", package, "--api", address.ToString(), "--api-key", $" {AdminKey}, {ClientKey}");
        Assert.True(exit == 0, error);
        Assert.Contains($"registered {version}", output);

        // A package without its encoder is refused before anything is sent.
        var broken = Package(Version("broken"), Catalogue, 0.1, directory: "broken");
        File.Delete(Path.Combine(broken, ModelPackage.EncoderFile));
        (exit, _, error) = await Publish("--package", broken);
        Assert.Equal(1, exit);
        Assert.Contains($"'{Path.Combine(broken, ModelPackage.EncoderFile)}' is missing", error);

        // Nor is a package past the API's 64 MiB upload limit sent: the message says how to register it instead.
        var largeVersion = Version("large");
        var large = Path.Combine(_directory, "large");
        var wide = new SasRecModel(new SasRecConfig { ItemCount = 70_000, Dimension = 128, MaxLength = 8, Blocks = 1, Heads = 1, FeedForwardDimension = 8 }, seed: 5);
        SasRecExporter.Export(wide, [.. Enumerable.Range(1, 70_000).Select(i => $"item-{i}")], largeVersion, null, null).Save(large);
        (exit, _, error) = await Publish("--package", large);
        Assert.Equal(1, exit);
        Assert.Contains("MiB, past the 64 MiB the API takes: give --incoming-directory", error);
        using (var missing = await cluster.Http.GetAsync($"/models/{largeVersion}"))
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        // Placed in the cluster's incoming directory instead, it is registered there.
        (exit, var placed, error) = await Publish("--package", large, "--incoming-directory", Incoming);
        Assert.True(exit == 0, error);
        Assert.Contains($"registered {largeVersion} from {Path.Combine(Incoming, largeVersion)}: sasrec, 70,000 items", placed);
        Assert.Equal(70_000, (await cluster.GetJsonAsync<ModelReply>($"/models/{largeVersion}")).ItemCount);
        Assert.False(Directory.Exists(Path.Combine(Incoming, largeVersion)));
        await api.StopAsync();
    }

    [Fact]
    public async Task A_package_placed_in_the_incoming_directory_is_registered_once_and_a_wrong_directory_leaves_nothing_behind()
    {
        await CatalogueAsync();
        var version = Version("placed");
        var package = Package(version, Catalogue, 0.2);
        var (exit, output, error) = await Publish("--package", package, "--incoming-directory", Incoming, "--activate");
        Assert.True(exit == 0, error);
        Assert.Contains($"registered {version} from {Path.Combine(Incoming, version)}", output);
        Assert.Contains($"active: {version}", output);
        Assert.Equal(version, (await cluster.GetJsonAsync<ModelsReply>("/models")).Active);

        // Again (as after a lost answer): the copy placed for it is taken out, and the registered version is this package.
        (exit, output, error) = await Publish("--package", package, "--incoming-directory", Incoming);
        Assert.True(exit == 0, error);
        Assert.Contains($"{version} is registered already with this package's description", output);
        Assert.False(Directory.Exists(Path.Combine(Incoming, version)));

        // A directory the cluster does not read: the cluster finds nothing, and the copy is taken out again.
        var elsewhere = Path.Combine(_directory, "not-the-cluster", ".incoming");
        Directory.CreateDirectory(Path.GetDirectoryName(elsewhere)!);
        var other = Version("elsewhere");
        (exit, _, error) = await Publish("--package", Package(other, Catalogue, 0.2), "--incoming-directory", elsewhere);
        Assert.Equal(1, exit);
        Assert.Contains($"register answered 404: version: No package is placed at {Path.Combine(Incoming, other)}", error);
        Assert.False(Directory.Exists(Path.Combine(elsewhere, other)));
        Assert.Empty(Directory.GetFileSystemEntries(elsewhere));

        // Another package waiting under the version is not replaced.
        var waiting = Version("waiting");
        Directory.CreateDirectory(Path.Combine(Incoming, waiting));
        await File.WriteAllTextAsync(Path.Combine(Incoming, waiting, ModelPackage.ManifestFile), "{}");
        (exit, _, error) = await Publish("--package", Package(waiting, Catalogue, 0.2), "--incoming-directory", Incoming);
        Assert.Equal(1, exit);
        Assert.Contains($"{Path.Combine(Incoming, waiting)} holds another package waiting to be registered", error);
        Assert.Equal("{}", await File.ReadAllTextAsync(Path.Combine(Incoming, waiting, ModelPackage.ManifestFile)));
        Directory.Delete(Path.Combine(Incoming, waiting), recursive: true);
    }

    [Fact]
    public async Task With_a_holdout_both_versions_are_scored_on_the_same_users_instead_of_by_what_they_recorded()
    {
        await CatalogueAsync();
        // The champion recorded a high score on the users of its day but knows only four of the six items; the
        // challenger recorded a low one but knows them all. Today's validation users go on to items 5 and 6.
        var champion = Version("champion");
        var (exit, _, error) = await Publish("--package", Package(champion, Catalogue[..4], 0.9), "--activate");
        Assert.True(exit == 0, error);
        var challenger = Version("challenger");
        var package = Package(challenger, Catalogue, 0.1);
        var holdout = Path.Combine(_directory, "holdout");
        Directory.CreateDirectory(Path.Combine(holdout, "val"));
        await File.WriteAllLinesAsync(Path.Combine(holdout, "items.tsv"), Catalogue.Reverse().Select((id, i) => $"{i + 1}\t{id}"));   // 1 = p-6 … 6 = p-1
        await File.WriteAllLinesAsync(Path.Combine(holdout, "val", "input.txt"), ["6 5", "5 4", "6 4 3"]);                       // p-1 p-2, p-2 p-3, p-1 p-3 p-4
        await File.WriteAllLinesAsync(Path.Combine(holdout, "val", "output.txt"), ["2", "1", "2"]);                              // p-5, p-6, p-5

        (exit, _, error) = await Publish("--package", package, "--activate", "--compare-with-active", "val_ndcg@10");
        Assert.Equal(PublishCommand.HeldBack, exit);
        Assert.Contains($"the active {champion}'s 0.9", error);

        // Scored on the same users, the champion ranks none of their next items.
        var models = Path.Combine(cluster.DataDirectory, "models");
        (exit, var output, error) = await Publish("--package", package, "--activate", "--compare-with-active", "val_ndcg@10", "--holdout", holdout, "--models-directory", models);
        Assert.True(exit == 0, error);
        Assert.Matches($@"val_ndcg@10 on the 3 validation cases of {System.Text.RegularExpressions.Regex.Escape(holdout)}: 0\.[0-9]+ for {challenger}, 0 for the active {champion} \(3 of them name items it does not know\)\.", output);
        Assert.Contains($"active: {challenger} (before: {champion})", output);

        // An active version that recorded no validation score (trained on every event, as the bundled demo package is)
        // has seen the validation items: it is not scored on them, and the floor alone decides.
        var everything = Version("everything");
        (exit, _, error) = await Publish("--package", Package(everything, Catalogue, null), "--activate");
        Assert.True(exit == 0, error);
        var next = Version("next");
        (exit, output, error) = await Publish("--package", Package(next, Catalogue[..4], 0.01), "--activate", "--compare-with-active", "val_ndcg@10", "--holdout", holdout, "--models-directory", models);
        Assert.True(exit == 0, error);
        Assert.Contains($"the active version {everything} recorded no validation score", output);
        Assert.DoesNotContain("validation cases of", output);
        Assert.Contains($"active: {next} (before: {everything})", output);

        // A metric the holdout cannot score, and a holdout without the models directory, are refused before anything is sent.
        (exit, _, error) = await Publish("--package", package, "--activate", "--compare-with-active", "test_mrr", "--holdout", holdout, "--models-directory", models);
        Assert.Equal(1, exit);
        Assert.Contains("is not a metric --holdout can score", error);
        (exit, _, error) = await Publish("--package", package, "--activate", "--compare-with-active", "val_hr@10", "--holdout", holdout);
        Assert.Equal(1, exit);
        Assert.Contains("--holdout needs --models-directory", error);
    }

    /// <summary>The cluster's incoming model directory, where a package too large to upload is placed.</summary>
    private string Incoming => Path.Combine(cluster.DataDirectory, "models", ".incoming");

    [Fact]
    public async Task Old_versions_are_pruned_but_the_active_one_the_rollback_target_and_a_just_retired_one_stay()
    {
        await CatalogueAsync();
        var prefix = $"prune-{Guid.NewGuid():N}"[..14] + "-";
        string[] versions = [.. Enumerable.Range(1, 5).Select(i => $"{prefix}{i}")];
        foreach (var version in versions)
        {
            string[] activate = version == versions[^1] ? ["--activate"] : [];
            var (published, _, publishError) = await Publish(["--package", Package(version, Catalogue, 0.1), .. activate]);
            Assert.True(published == 0, publishError);
        }
        var other = Version("other");
        Assert.Equal(0, (await Publish("--package", Package(other, Catalogue, 0.1))).Exit);

        // Of the four not serving, the two registered last stay; the version without the prefix is not counted.
        var (exit, output, error) = await Cli("delete-models", "--keep", "2", "--prefix", prefix, "--dry-run");
        Assert.True(exit == 0, error);
        Assert.Contains($"keeping {versions[4]} (active)", output);
        // Other tests' versions (the rollback target among them, and those without the prefix) stay too.
        Assert.Matches($@", {versions[3]}, {versions[2]}, and [0-9]+ versions? not starting with '{prefix}'\.", output);
        Assert.Contains($"would delete {versions[0]}\nwould delete {versions[1]}".Replace("\n", Environment.NewLine), output);
        Assert.Equal(6, (await cluster.GetJsonAsync<ModelsReply>("/models")).Models.Count(m => m.Version.StartsWith(prefix, StringComparison.Ordinal) || m.Version == other));

        (exit, output, error) = await Cli("delete-models", "--keep", "2", "--prefix", prefix);
        Assert.True(exit == 0, error);
        Assert.Contains($"deleted {versions[0]}", output);
        Assert.Contains($"deleted {versions[1]}", output);
        var listed = (await cluster.GetJsonAsync<ModelsReply>("/models")).Models.Select(m => m.Version).ToList();
        Assert.Equal([versions[2], versions[3], versions[4], other], listed.Where(v => v.StartsWith(prefix, StringComparison.Ordinal) || v == other));

        // A deleted version's name is not published again.
        (exit, _, error) = await Publish("--package", Package(versions[0], Catalogue, 0.1, directory: "again"));
        Assert.Equal(1, exit);
        Assert.Contains("was deleted, and a deleted version's name is not used again", error);

        // versions[4] retired a moment ago (the grace is 30 s here) and versions[2] is where a rollback goes: both stay.
        await TestPackages.Activate(cluster.Http, versions[2]);
        await TestPackages.Activate(cluster.Http, versions[3]);
        (exit, output, error) = await Cli("delete-models", "--keep", "0", "--prefix", prefix);
        Assert.True(exit == 0, error);
        Assert.Contains($"keeping {versions[3]} (active), {versions[2]} (rollback target)", output);
        Assert.Contains($"kept {versions[4]}: '{versions[4]}' was retired at", output);
        Assert.Equal(HttpStatusCode.OK, (await cluster.Http.GetAsync($"/models/{versions[4]}")).StatusCode);

        // Named: the active version and an unknown one are errors.
        (exit, _, error) = await Cli("delete-models", "--version", versions[3], "--version", "no-such-version");
        Assert.Equal(1, exit);
        Assert.Contains($"is the active version", error);
        Assert.Contains("models/no-such-version answered 404", error);
        (exit, output, error) = await Cli("delete-models", "--version", other);
        Assert.True(exit == 0, error);
        Assert.Contains($"deleted {other}", output);
        (exit, _, error) = await Cli("delete-models", "--version", other, "--keep", "1");
        Assert.Equal(1, exit);
        Assert.Contains("Give either --version", error);
    }

    [Fact]
    public async Task A_package_published_as_a_candidate_serves_beside_the_active_version_and_is_never_pruned()
    {
        await CatalogueAsync();
        var active = Version("beside");
        Assert.Equal(0, (await Publish("--package", Package(active, Catalogue, 0.2), "--activate")).Exit);
        var version = Version("candidate");
        var package = Package(version, Catalogue, 0.1);
        // Refused before anything is sent: both ways of serving at once, a share out of range.
        var (exit, output, error) = await Publish("--package", package, "--activate", "--candidate", "0.1");
        Assert.Equal(1, exit);
        Assert.Contains("give one of them", error);
        (exit, _, error) = await Publish("--package", package, "--candidate", "0");
        Assert.Equal(1, exit);
        Assert.Contains("must be a share of the users above 0 and at most 1", error);
        Assert.Equal(HttpStatusCode.NotFound, (await cluster.Http.GetAsync($"/models/{version}")).StatusCode);

        (exit, output, error) = await Publish("--package", package, "--candidate", "0.25");
        Assert.True(exit == 0, error);
        Assert.Contains($"candidate: {version} for a share of 0.25 of the users beside {active}", output);
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        Assert.Equal((active, version, 0.25), (models.Active, models.Candidate, models.CandidateShare));
        // A second run (as after a lost answer) finds it registered and the candidate already, at a new share.
        (exit, output, error) = await Publish("--package", package, "--candidate", "0.5");
        Assert.True(exit == 0, error);
        Assert.Contains($"{version} is registered already with this package's description", output);
        Assert.Equal((active, version, 0.5), ((models = await cluster.GetJsonAsync<ModelsReply>("/models")).Active, models.Candidate, models.CandidateShare));

        // Pruning keeps it as it keeps the active version; deleting it by name is refused while it serves.
        (exit, output, error) = await Cli("delete-models", "--keep", "0", "--prefix", "candidate-", "--dry-run");
        Assert.True(exit == 0, error);
        Assert.Contains($"{version} (candidate)", output);
        Assert.DoesNotContain($"would delete {version}", output);
        (exit, _, error) = await Cli("delete-models", "--version", version);
        Assert.Equal(1, exit);
        Assert.Contains("is served to a share of the users", error);

        // Activated, it serves everyone and is no longer a candidate.
        await TestPackages.Activate(cluster.Http, version);
        models = await cluster.GetJsonAsync<ModelsReply>("/models");
        Assert.Equal((version, null), (models.Active, models.Candidate));
    }

    private Task<(int Exit, string Output, string Error)> Cli(params string[] args) => CommandLine.Run(cluster.BaseAddress, args, "--attempts", "2");

    private static string Version(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    /// <summary>A randomly initialised transformer over <paramref name="itemIds"/> whose manifest records <paramref name="metric"/> (when given).</summary>
    private string Package(string version, IReadOnlyList<string> itemIds, double? valNdcg, string? directory = null, string metric = "val_ndcg@10")
    {
        var model = new SasRecModel(new SasRecConfig { ItemCount = itemIds.Count, Dimension = 16, MaxLength = 20, Blocks = 1, Heads = 1, FeedForwardDimension = 16 }, seed: 5);
        var path = Path.Combine(_directory, directory ?? version);
        SasRecExporter.Export(model, itemIds, version, null, valNdcg is { } ndcg ? new Dictionary<string, double> { [metric] = ndcg } : null).Save(path);
        return path;
    }

    private Task<(int Exit, string Output, string Error)> Publish(params string[] args) => CommandLine.Run(cluster.BaseAddress, ["publish", .. args], "--attempts", "2");
}

using System.CommandLine;
using System.Net;
using System.Net.Http.Json;
using Recommender.Cli;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;

namespace Recommender.Cluster.Tests.Storage;

/// <summary>
/// `recommender backup` against a running single-node cluster under write load, restored by starting a cluster on the
/// copy: each user's history there is a prefix of what that user was acknowledged (one consistent snapshot), holding at
/// least everything acknowledged before the backup began, and the model packages serve recommendations.
/// </summary>
public sealed class BackupTests
{
    private const int Users = 6;

    [Fact]
    public async Task A_backup_taken_under_load_restores_to_a_consistent_snapshot_with_its_models()
    {
        var generated = ClusterFixtureOptions.ForSmallCatalogue("backup");
        var root = generated.TemporaryDirectory!;
        // The test removes the directory itself: the live cluster's would take the backup with it.
        var options = generated with { Silos = 1, TemporaryDirectory = null };
        try
        {
            await BackUpUnderLoadAndRestoreAsync(options, root);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task BackUpUnderLoadAndRestoreAsync(ClusterFixtureOptions options, string root)
    {
        var backup = Path.Combine(root, "backup");
        var acknowledged = Enumerable.Range(0, Users).Select(_ => new List<string>()).ToArray();
        int[] before;
        int[] after;
        await using (var live = new Fixture(options with { DataDirectory = Path.Combine(root, "live") }))
        {
            await live.StartAsync();
            using var stop = new CancellationTokenSource();
            var load = Task.WhenAll(Enumerable.Range(0, Users).Select(u => WriteUntilStoppedAsync(live.Http, u, acknowledged[u], stop.Token)));
            await Task.Delay(TimeSpan.FromSeconds(1));

            before = Counts(acknowledged);
            var (exit, output, error) = await Task.Run(() => Backup("--data-directory", live.DataDirectory, "--out", backup));
            after = Counts(acknowledged);
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            await stop.CancelAsync();
            await load;

            Assert.True(exit == 0, $"backup exited with {exit}: {error}");
            Assert.Contains("integrity ok", output);
            Assert.Contains("1 model package(s)", output);
            Assert.True(before.Sum() > 0 && Counts(acknowledged).Sum() > after.Sum(), "the load should run before the backup and go on after it");
        }

        await using var restored = new Fixture(options with { DataDirectory = backup });
        await restored.StartAsync();
        for (var u = 0; u < Users; u++)
        {
            var history = (await restored.GetJsonAsync<HistoryReply>($"/users/backup-user-{u}/history")).Events.Select(e => e.EventId).ToList();
            Assert.True(history.Count >= before[u] && history.Count <= acknowledged[u].Count,
                $"user {u}: {history.Count} events restored; {before[u]} were acknowledged before the backup began and {acknowledged[u].Count} in all");
            Assert.Equal(acknowledged[u].Take(history.Count), history);
        }
        var recommendations = await restored.GetJsonAsync<RecommendationsReply>("/users/backup-user-0/recommendations?k=5");
        Assert.Equal(5, recommendations.Items.Count);
    }

    [Fact]
    public void A_backup_refuses_a_directory_without_a_database_and_a_target_that_is_not_empty()
    {
        var root = Path.Combine(Path.GetTempPath(), "recommender-tests", "backup-errors-" + Guid.NewGuid().ToString("N"));
        var occupied = Path.Combine(root, "occupied");
        Directory.CreateDirectory(occupied);
        File.WriteAllText(Path.Combine(occupied, "keep.txt"), "not a backup");
        File.WriteAllText(Path.Combine(root, BackupCommand.DatabaseFile), "");
        try
        {
            var (exit, _, error) = Backup("--data-directory", occupied, "--out", Path.Combine(root, "out"));
            Assert.Equal(1, exit);
            Assert.Contains($"holds no {BackupCommand.DatabaseFile}", error);
            Assert.False(Directory.Exists(Path.Combine(root, "out")));

            (exit, _, error) = Backup("--data-directory", root, "--out", occupied);
            Assert.Equal(1, exit);
            Assert.Contains("is not empty", error);
            Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(occupied).Select(Path.GetFileName));

            // A file elsewhere, named with --database, is backed up as recommender.db beside the data directory's packages.
            var elsewhere = Path.Combine(root, "elsewhere", "state.db");
            Hosting.Sql.SqliteStorageSchema.EnsureCreated($"Data Source={elsewhere}");
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            (exit, var output, error) = Backup("--data-directory", occupied, "--database", elsewhere, "--out", Path.Combine(root, "copied"));
            Assert.True(exit == 0, error);
            Assert.Contains("0 grain states, integrity ok) and 0 model package(s)", output);
            Assert.True(File.Exists(Path.Combine(root, "copied", BackupCommand.DatabaseFile)));
            (exit, _, error) = Backup("--data-directory", occupied, "--database", Path.Combine(root, "missing.db"), "--out", Path.Combine(root, "out"));
            Assert.Equal(1, exit);
            Assert.Contains("--database", error);

            // An empty file is an empty SQLite database, but no node's: refused, and nothing is left behind.
            (exit, _, error) = Backup("--data-directory", root, "--out", Path.Combine(root, "out"));
            Assert.Equal(1, exit);
            Assert.Contains($"'{Path.Combine(root, BackupCommand.DatabaseFile)}' is not a recommender node's database", error);
            Assert.False(Directory.Exists(Path.Combine(root, "out")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>One user's events, one request at a time, each recorded once it is acknowledged.</summary>
    private static async Task WriteUntilStoppedAsync(HttpClient http, int user, List<string> acknowledged, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var id = $"backup-{user}-{i}";
            using var response = await http.PostAsJsonAsync("/events", new { userId = $"backup-user-{user}", itemId = $"{1 + (user + i) % 40}", type = "view", eventId = id }, CancellationToken.None);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST /events answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
            lock (acknowledged) acknowledged.Add(id);
        }
    }

    private static int[] Counts(List<string>[] acknowledged) => acknowledged.Select(a => { lock (a) return a.Count; }).ToArray();

    private static (int Exit, string Output, string Error) Backup(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CliCommands.RunAsync(CliCommands.Root(), ["backup", .. args], new InvocationConfiguration { Output = output, Error = error }).GetAwaiter().GetResult();
        return (exit, output.ToString(), error.ToString());
    }

    private sealed class Fixture(ClusterFixtureOptions options) : ClusterFixture(options), IAsyncDisposable
    {
        async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
    }
}

using System.Net;

namespace Recommender.Deployment.Tests;

/// <summary>
/// The single node's data file between processes: a second node on the same file is refused with exit code 2 and a
/// message naming it, while the first goes on serving; after the first is killed (kill -9), a new node starts on the file.
/// </summary>
public sealed class DataFileTests
{
    [Fact]
    public async Task A_second_node_on_the_same_data_file_is_refused_and_the_file_is_free_again_after_a_crash()
    {
        var root = Path.Combine(Path.GetTempPath(), "recommender-data-file-" + Guid.NewGuid().ToString("N"));
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(root);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            await using var first = NodeProcess.StartSingleNode("first", data, root);
            await first.WaitReadyAsync(http, TimeSpan.FromSeconds(90), probe: "/health/live");

            await using (var second = NodeProcess.StartSingleNode("second", data, root))
            {
                Assert.Equal(2, await second.WaitForExitAsync(TimeSpan.FromSeconds(60)));
                Assert.Contains($"Configuration error: Another node is using the data file '{Path.Combine(data, "recommender.db")}'", File.ReadAllText(second.LogPath));
            }
            using (var live = await http.GetAsync(new Uri(first.BaseAddress, "/health/live")))
                Assert.Equal(HttpStatusCode.OK, live.StatusCode);

            // The operating system drops a dead process's lock: no stale lock file keeps the node down.
            await first.KillAsync();
            await using var third = NodeProcess.StartSingleNode("third", data, root);
            await third.WaitReadyAsync(http, TimeSpan.FromSeconds(90), probe: "/health/live");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_data_file_that_is_not_a_database_stops_the_node_with_a_message_naming_it()
    {
        var root = Path.Combine(Path.GetTempPath(), "recommender-data-file-" + Guid.NewGuid().ToString("N"));
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(data);
        await File.WriteAllTextAsync(Path.Combine(data, "recommender.db"), "not a database, but a file someone put here");
        try
        {
            await using var node = NodeProcess.StartSingleNode("damaged", data, root);
            Assert.Equal(2, await node.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            var log = File.ReadAllText(node.LogPath);
            Assert.Contains($"Configuration error: The data file '{Path.Combine(data, "recommender.db")}' is not a SQLite database or is damaged", log);
            Assert.DoesNotContain("Unhandled exception", log);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}

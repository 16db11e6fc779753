using System.Net.Http.Json;

namespace Recommender.Deployment.Tests;

/// <summary>
/// A node started from a working directory other than its own (as a service manager or a script starts it) reads the
/// appsettings.json shipped beside its assembly: requests and Orleans' routine are not logged at Information.
/// </summary>
public sealed class ShippedSettingsTests
{
    [Fact]
    public async Task A_node_started_from_another_directory_keeps_its_shipped_log_levels()
    {
        var root = Path.Combine(Path.GetTempPath(), "recommender-settings-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        try
        {
            // NodeProcess runs the process in root, which holds no appsettings.json.
            await using var node = NodeProcess.StartSingleNode("elsewhere", Path.Combine(root, "data"), root);
            await node.WaitReadyAsync(http, TimeSpan.FromSeconds(90), probe: "/health/live");
            (await http.PostAsJsonAsync(new Uri(node.BaseAddress, "/items"), new[] { new { id = "a", title = "A" } })).EnsureSuccessStatusCode();
            (await http.PostAsJsonAsync(new Uri(node.BaseAddress, "/events"), new { userId = "u", itemId = "a", type = "view" })).EnsureSuccessStatusCode();
            for (var i = 0; i < 5; i++)
                (await http.GetAsync(new Uri(node.BaseAddress, "/users/u/history"))).EnsureSuccessStatusCode();
            await node.StopAsync(TimeSpan.FromSeconds(30));

            var log = File.ReadAllText(node.LogPath);
            Assert.False(File.Exists(Path.Combine(root, "appsettings.json")));
            Assert.Contains("Application started", log); // Information from the host itself still shows
            Assert.DoesNotContain("Request starting", log);
            Assert.DoesNotContain("Executing endpoint", log);
            Assert.DoesNotContain("info: Orleans.", log);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}

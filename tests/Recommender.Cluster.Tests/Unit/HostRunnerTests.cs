using Recommender.Api;
using Recommender.Hosting;

namespace Recommender.Cluster.Tests.Unit;

/// <summary>A node started with a bad setting stops with a configuration error and exit code 2, not an unhandled exception.</summary>
public sealed class HostRunnerTests
{
    [Theory]
    [InlineData("Recommender:Shards", "5000", "Recommender:Shards must be 0 (automatic) to 1024, not 5000.")]
    [InlineData("Recommender:Mode", "Bogus", "Failed to convert configuration value 'Bogus' at 'Recommender:Mode'")]
    [InlineData("Recommender:RetireGrace", "abc", "Failed to convert configuration value 'abc' at 'Recommender:RetireGrace' to type 'System.TimeSpan'. abc is not a valid value for TimeSpan.")]
    public async Task The_api_with_a_bad_setting_exits_with_code_2_and_names_it(string key, string value, string message)
    {
        var directory = Path.Combine(Path.GetTempPath(), "recommender-tests", "runner-" + Guid.NewGuid().ToString("N"));
        string[] args = [$"--{key}={value}", $"--Recommender:DataDirectory={directory}", "--urls=http://127.0.0.1:0"];
        Exception? thrown = null;
        try
        {
            var app = RecommenderApi.Build(args);
            await app.StartAsync();
            await app.StopAsync();
        }
        catch (Exception e)
        {
            thrown = e;
        }
        Assert.NotNull(thrown);
        Assert.StartsWith(message, HostRunner.Describe(thrown));

        Assert.Equal(HostRunner.ConfigurationErrorExitCode, await HostRunner.RunAsync(() => RecommenderApi.Build(args)));
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public void Other_exceptions_are_not_taken_for_configuration_errors()
    {
        Assert.Null(HostRunner.Describe(new InvalidOperationException("Something else.")));
        Assert.Null(HostRunner.Describe(new IOException("Disk full.")));
    }
}

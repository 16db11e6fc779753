using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Recommender.Hosting;

namespace Recommender.Cluster.Tests.Unit;

/// <summary>Serving settings that would only fail requests later stop the silo while it is being configured, naming the key.</summary>
public sealed class SiloSettingsTests
{
    [Theory]
    [InlineData("Recommender:SoftmaxTemperature", "0")]
    [InlineData("Recommender:DotSoftmaxTemperature", "-1")]
    [InlineData("Recommender:DotSoftmaxTemperature", "NaN")]
    [InlineData("Recommender:HistoryWindow", "0")]
    [InlineData("Recommender:HistoryRetention", "0")]
    [InlineData("Recommender:Shards", "2000")]
    [InlineData("Recommender:Popularity:ListSize", "0")]
    [InlineData("Recommender:Popularity:MinimumLiveCount", "0")]
    [InlineData("Recommender:Popularity:HalfLife", "00:00:00")]
    [InlineData("Recommender:Popularity:FlushInterval", "-00:00:01")]
    [InlineData("Recommender:Popularity:RefreshInterval", "00:00:00")]
    [InlineData("Recommender:EventJournalRetryInterval", "00:00:00")]
    [InlineData("Recommender:EventJournalHandOutTimeout", "-00:00:01")]
    [InlineData("Recommender:NextItemWindow", "-00:00:01")]
    [InlineData("Recommender:SessionCacheSize", "-1")]
    [InlineData("Recommender:SessionCacheSize", "10000001")]
    [InlineData("Recommender:NextItemWindow", "1.00:00:01")]
    [InlineData("Recommender:SequentialTestLift", "0")]
    [InlineData("Recommender:SequentialTestLift", "NaN")]
    [InlineData("Recommender:SequentialTestLift", "11")]
    public void A_bad_setting_is_rejected_with_its_key(string key, string value)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Configure(new() { [key] = value }));
        Assert.Equal(key, error.OptionsName);
        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void The_defaults_and_explicit_good_values_are_accepted()
    {
        Configure([]);
        Configure(new() { ["Recommender:SoftmaxTemperature"] = "0.05", ["Recommender:DotSoftmaxTemperature"] = "2", ["Recommender:HistoryRetention"] = "50", ["Recommender:Popularity:MinimumLiveCount"] = "1", ["Recommender:Popularity:HalfLife"] = "01:00:00", ["Recommender:EventJournalHandOutTimeout"] = "00:00:02", ["Recommender:NextItemWindow"] = "00:00:00", ["Recommender:SessionCacheSize"] = "0", ["Recommender:SequentialTestLift"] = "0.05" });
    }

    private static void Configure(Dictionary<string, string?> settings)
    {
        var directory = Path.Combine(Path.GetTempPath(), "recommender-tests", "settings-" + Guid.NewGuid().ToString("N"));
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(settings) { ["Recommender:DataDirectory"] = directory });
        try
        {
            builder.UseOrleans(silo => silo.UseLocalhostClustering().AddRecommender(builder.Configuration));
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }
}

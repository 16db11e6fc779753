using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Recommender.Api;

namespace Recommender.Cluster.Tests.Unit;

/// <summary>Orleans' failure-detection and messaging settings reach the silo and the client from configuration; unset ones keep Orleans' defaults.</summary>
public sealed class OrleansTuningTests
{
    [Fact]
    public async Task A_co_hosted_silo_takes_its_membership_and_messaging_settings_from_configuration()
    {
        var directory = Path.Combine(Path.GetTempPath(), "recommender-tests", "tuning-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var app = RecommenderApi.Build([$"--Recommender:DataDirectory={directory}", "--urls=http://127.0.0.1:0",
                "--Orleans:Membership:ProbeTimeout=00:00:02", "--Orleans:Membership:NumMissedProbesLimit=2",
                "--Orleans:Membership:NumVotesForDeathDeclaration=1", "--Orleans:Messaging:ResponseTimeout=00:00:12"]);
            var membership = app.Services.GetRequiredService<IOptions<ClusterMembershipOptions>>().Value;
            Assert.Equal(TimeSpan.FromSeconds(2), membership.ProbeTimeout);
            Assert.Equal(2, membership.NumMissedProbesLimit);
            Assert.Equal(1, membership.NumVotesForDeathDeclaration);
            Assert.Equal(new ClusterMembershipOptions().TableRefreshTimeout, membership.TableRefreshTimeout);
            Assert.Equal(TimeSpan.FromSeconds(12), app.Services.GetRequiredService<IOptions<SiloMessagingOptions>>().Value.ResponseTimeout);
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_front_end_client_takes_its_response_timeout_from_configuration()
    {
        await using var tuned = RecommenderApi.Build(["--Recommender:Mode=Cluster", "--urls=http://127.0.0.1:0", "--Orleans:Messaging:ResponseTimeout=00:00:07"]);
        Assert.Equal(TimeSpan.FromSeconds(7), tuned.Services.GetRequiredService<IOptions<ClientMessagingOptions>>().Value.ResponseTimeout);
        await using var plain = RecommenderApi.Build(["--Recommender:Mode=Cluster", "--urls=http://127.0.0.1:0"]);
        Assert.Equal(new ClientMessagingOptions().ResponseTimeout, plain.Services.GetRequiredService<IOptions<ClientMessagingOptions>>().Value.ResponseTimeout);
    }
}

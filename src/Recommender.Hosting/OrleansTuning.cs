using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Recommender.Hosting;

/// <summary>
/// Orleans' own failure-detection and messaging settings, read from configuration: "Orleans:Membership" binds
/// <see cref="ClusterMembershipOptions"/> (how fast a lost silo is declared dead) and "Orleans:Messaging" the silo's
/// and the client's messaging options (the response timeout). Each section is bound once up front, so that a value of
/// the wrong type or out of range stops the node at start-up with its key.
/// </summary>
public static class OrleansTuning
{
    public const string MembershipSection = "Orleans:Membership";
    public const string MessagingSection = "Orleans:Messaging";

    public static ISiloBuilder ConfigureOrleansTuning(this ISiloBuilder silo, IConfiguration configuration)
    {
        var membership = configuration.GetSection(MembershipSection);
        var checkedMembership = membership.Get<ClusterMembershipOptions>() ?? new ClusterMembershipOptions();
        Positive(checkedMembership.ProbeTimeout, MembershipSection + ":ProbeTimeout");
        Positive(checkedMembership.TableRefreshTimeout, MembershipSection + ":TableRefreshTimeout");
        Positive(checkedMembership.IAmAliveTablePublishTimeout, MembershipSection + ":IAmAliveTablePublishTimeout");
        AtLeastOne(checkedMembership.NumMissedProbesLimit, MembershipSection + ":NumMissedProbesLimit");
        AtLeastOne(checkedMembership.NumVotesForDeathDeclaration, MembershipSection + ":NumVotesForDeathDeclaration");
        AtLeastOne(checkedMembership.NumProbedSilos, MembershipSection + ":NumProbedSilos");
        var messaging = configuration.GetSection(MessagingSection);
        Positive((messaging.Get<SiloMessagingOptions>() ?? new SiloMessagingOptions()).ResponseTimeout, MessagingSection + ":ResponseTimeout");
        silo.Services.Configure<ClusterMembershipOptions>(membership);
        silo.Services.Configure<SiloMessagingOptions>(messaging);
        return silo;
    }

    public static IClientBuilder ConfigureOrleansTuning(this IClientBuilder client, IConfiguration configuration)
    {
        var messaging = configuration.GetSection(MessagingSection);
        Positive((messaging.Get<ClientMessagingOptions>() ?? new ClientMessagingOptions()).ResponseTimeout, MessagingSection + ":ResponseTimeout");
        client.Services.Configure<ClientMessagingOptions>(messaging);
        return client;
    }

    private static void Positive(TimeSpan value, string key)
    {
        if (value <= TimeSpan.Zero)
            throw new OptionsValidationException(key, typeof(OrleansTuning), [$"{key} must be a positive time span (such as 00:00:10), not {value}."]);
    }

    private static void AtLeastOne(int value, string key)
    {
        if (value < 1) throw new OptionsValidationException(key, typeof(OrleansTuning), [$"{key} must be at least 1, not {value}."]);
    }
}

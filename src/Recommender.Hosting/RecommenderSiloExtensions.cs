using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using Recommender.Grains;
using Recommender.Grains.Catalogue;
using Recommender.Grains.Inference;
using Recommender.Grains.Items;
using Recommender.Grains.Popularity;
using Recommender.Grains.Users;
using Recommender.Grains.Text;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Recommender.Hosting.Demo;
using Recommender.Hosting.Sql;

namespace Recommender.Hosting;

/// <summary>Silo configuration shared by the headless silo, the embedded front end and test clusters.</summary>
public static class RecommenderSiloExtensions
{
    /// <summary>Co-hosts a silo: clustering from configuration plus <see cref="AddRecommender"/>.</summary>
    public static IHostApplicationBuilder AddRecommenderSilo(this IHostApplicationBuilder builder)
    {
        builder.UseOrleans(silo => silo.UseRecommenderClustering(builder.Configuration).AddRecommender(builder.Configuration));
        return builder;
    }

    /// <summary>Cluster identity, ports and membership: localhost for one node, or ADO.NET (e.g. PostgreSQL) for many.</summary>
    public static ISiloBuilder UseRecommenderClustering(this ISiloBuilder silo, IConfiguration configuration)
    {
        var settings = Bind(configuration);
        var endpoints = BindEndpoints(configuration);
        silo.ConfigureOrleansTuning(configuration);
        if (settings.Clustering.Mode == ClusteringMode.Localhost)
            return silo.UseLocalhostClustering(endpoints.SiloPort, endpoints.GatewayPort, serviceId: endpoints.ServiceId, clusterId: endpoints.ClusterId);
        silo.Configure<ClusterOptions>(o => { o.ClusterId = endpoints.ClusterId; o.ServiceId = endpoints.ServiceId; });
        if (!string.IsNullOrWhiteSpace(endpoints.SiloName)) silo.Configure<SiloOptions>(o => o.SiloName = endpoints.SiloName.Trim());
        if (string.IsNullOrWhiteSpace(endpoints.AdvertisedIPAddress))
            silo.ConfigureEndpoints(endpoints.SiloPort, endpoints.GatewayPort);
        else
        {
            // A pod or container advertises one address but may be reached on others; a loopback cluster must not be
            // reachable from the network, since the silo and gateway ports carry no authentication.
            var advertised = ParseAddress(endpoints.AdvertisedIPAddress);
            silo.ConfigureEndpoints(advertised, endpoints.SiloPort, endpoints.GatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(advertised));
        }
        return silo.UseAdoNetClustering(o =>
        {
            o.Invariant = settings.Clustering.Invariant;
            o.ConnectionString = Required(settings.Clustering.ConnectionString, "Recommender:Clustering:ConnectionString");
        });
    }

    /// <summary>Everything but clustering: grain storage, the serving services and the demo load.</summary>
    public static ISiloBuilder AddRecommender(this ISiloBuilder silo, IConfiguration configuration)
    {
        var settings = Bind(configuration);
        Validate(settings);
        Validate(configuration.GetSection(RecommenderOptions.Section).Get<ServingOptions>() ?? new ServingOptions());
        var connectionString = settings.StorageConnectionString;
        if (settings.UsesSqlite)
        {
            SqliteStorageSchema.EnsureCreated(connectionString);
            DataFileLock.Acquire(connectionString);
        }

        silo.AddAdoNetGrainStorageAsDefault(builder => builder.Configure<Serializer>((o, serializer) =>
        {
            o.Invariant = settings.Storage.Invariant;
            o.ConnectionString = connectionString;
            // Compact binary state (the Orleans serializer, version-tolerant through [Id]) instead of JSON.
            o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        }));

        if (settings.UsesSqlite)
        {
            // Replaces the registration above (the last one is resolved), wrapping the same storage.
            silo.Services.AddKeyedSingleton<IGrainStorage>(Orleans.Providers.ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME,
                (sp, name) => new QueuedSqliteGrainStorage(AdoNetGrainStorageFactory.Create(sp, (string)name!), connectionString));
        }

        var services = silo.Services;
        services.Configure<RecommenderOptions>(configuration.GetSection(RecommenderOptions.Section));
        services.Configure<ServingOptions>(configuration.GetSection(RecommenderOptions.Section));
        services.Configure<InferenceOptions>(configuration.GetSection(RecommenderOptions.Section + ":Inference"));
        services.Configure<TextEncoderOptions>(configuration.GetSection(RecommenderOptions.Section + ":TextEncoder"));
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<ServingMetrics>();
        // One core budget per silo for every ONNX Runtime session (sequence encoders and the text encoder).
        services.AddSingleton(_ => new ComputeGate(Environment.ProcessorCount));
        services.AddSingleton(sp =>
        {
            var inference = sp.GetRequiredService<IOptions<InferenceOptions>>().Value;
            return new ModelRegistry(sp.GetRequiredService<IOptions<RecommenderOptions>>().Value.ModelsDirectory, inference.Threading, inference,
                sp.GetRequiredService<ServingMetrics>(), sp.GetRequiredService<ComputeGate>());
        });
        services.AddSingleton<CatalogueCache>();
        services.AddSingleton<PopularityAccumulator>();
        services.AddSingleton<PopularityCache>();
        services.AddSingleton<PopularityFlusher>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<PopularityFlusher>());
        services.AddSingleton<EventJournalRetrier>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<EventJournalRetrier>());
        services.AddSingleton<ItemLocator>();
        services.AddSingleton<TextEncoding>();
        services.AddSingleton<ModelUnloader>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ModelUnloader>());
        services.AddSingleton<IStoredUsers, AdoNetStoredUsers>();
        services.AddSingleton<IBulkItemStore, AdoNetBulkItemStore>();
        services.AddSingleton<IGrainRowStore, AdoNetGrainRowStore>();
        services.AddSingleton<DemoSeeder>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, DemoSeedingParticipant>();
        // A database outage (or a SQLite file locked, full or read-only) reaches callers as a retryable
        // StorageUnavailableException (HTTP 503 + Retry-After), not as the driver's exception, which does not serialize.
        // After the stores, which it wraps.
        silo.AddStorageFailureTranslation();
        silo.AddTracePropagation(configuration);
        return silo;
    }

    public static RecommenderOptions Bind(IConfiguration configuration) =>
        configuration.GetSection(RecommenderOptions.Section).Get<RecommenderOptions>() ?? new RecommenderOptions();

    public static OrleansEndpointOptions BindEndpoints(IConfiguration configuration) =>
        configuration.GetSection(OrleansEndpointOptions.Section).Get<OrleansEndpointOptions>() ?? new OrleansEndpointOptions();

    private static void Validate(RecommenderOptions settings)
    {
        if (settings.Shards is < 0 or > 1024) throw Invalid<RecommenderOptions>("Recommender:Shards", $"Recommender:Shards must be 0 (automatic) to 1024, not {settings.Shards}.");
        if (string.IsNullOrWhiteSpace(settings.Storage.Invariant)) throw Invalid<RecommenderOptions>("Recommender:Storage:Invariant", "Recommender:Storage:Invariant is required.");
        if (string.IsNullOrWhiteSpace(settings.DataDirectory)) throw Invalid<RecommenderOptions>("Recommender:DataDirectory", "Recommender:DataDirectory is required.");
    }

    // A bad serving setting stops the silo at start-up instead of failing requests later.
    private static void Validate(ServingOptions serving)
    {
        Positive(serving.SoftmaxTemperature, "Recommender:SoftmaxTemperature");
        Positive(serving.DotSoftmaxTemperature, "Recommender:DotSoftmaxTemperature");
        if (serving.HistoryWindow is < 1) throw Invalid<ServingOptions>("Recommender:HistoryWindow", $"Recommender:HistoryWindow must be at least 1, not {serving.HistoryWindow}.");
        if (serving.HistoryRetention < 1) throw Invalid<ServingOptions>("Recommender:HistoryRetention", $"Recommender:HistoryRetention must be at least 1, not {serving.HistoryRetention}.");
        var popularity = serving.Popularity;
        AtLeastOne(popularity.ListSize, "Recommender:Popularity:ListSize");
        AtLeastOne(popularity.MinimumLiveCount, "Recommender:Popularity:MinimumLiveCount");
        PositiveTime(popularity.HalfLife, "Recommender:Popularity:HalfLife");
        PositiveTime(popularity.FlushInterval, "Recommender:Popularity:FlushInterval");
        PositiveTime(popularity.RefreshInterval, "Recommender:Popularity:RefreshInterval");
        PositiveTime(serving.EventJournalRetryInterval, "Recommender:EventJournalRetryInterval");
        PositiveTime(serving.EventJournalHandOutTimeout, "Recommender:EventJournalHandOutTimeout");

        static void AtLeastOne(long value, string key)
        {
            if (value < 1) throw Invalid<ServingOptions>(key, $"{key} must be at least 1, not {value}.");
        }

        static void PositiveTime(TimeSpan value, string key)
        {
            if (value <= TimeSpan.Zero) throw Invalid<ServingOptions>(key, $"{key} must be a positive time span (such as 00:00:05), not {value}.");
        }

        static void Positive(double value, string key)
        {
            if (!(value > 0) || double.IsInfinity(value)) throw Invalid<ServingOptions>(key, $"{key} must be a positive number, not {value}.");
        }
    }

    /// <summary>The error for a bad setting: its options name is the configuration key, so callers can tell which one.</summary>
    private static OptionsValidationException Invalid<TOptions>(string key, string message) => new(key, typeof(TOptions), [message]);

    private static IPAddress ParseAddress(string value) =>
        IPAddress.TryParse(value.Trim(), out var address)
            ? address
            : throw Invalid<OrleansEndpointOptions>("Orleans:AdvertisedIPAddress", $"Orleans:AdvertisedIPAddress must be an IP address, not '{value}'.");

    private static string Required(string? value, string key) =>
        string.IsNullOrWhiteSpace(value) ? throw Invalid<RecommenderOptions>(key, $"{key} is required.") : value;
}

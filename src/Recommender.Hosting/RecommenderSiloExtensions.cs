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
using Recommender.Grains.Experiments;
using Recommender.Grains.Inference;
using Recommender.Grains.Items;
using Recommender.Grains.Popularity;
using Recommender.Grains.Ranking;
using Recommender.Grains.Sessions;
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
        // Bound here too, not only where a grain first resolves them: a bad value then stops the silo before it starts.
        Validate(configuration.GetSection(RecommenderOptions.Section + ":Inference").Get<InferenceOptions>() ?? new InferenceOptions());
        Validate(configuration.GetSection(RecommenderOptions.Section + ":TextEncoder").Get<TextEncoderOptions>() ?? new TextEncoderOptions());
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
        services.AddSingleton<ExperimentAccumulator>();
        services.AddSingleton<ExperimentFlusher>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ExperimentFlusher>());
        services.AddSingleton<EventJournalRetrier>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<EventJournalRetrier>());
        services.AddSingleton<ItemLocator>();
        services.AddSingleton<HistoryRanker>();
        services.AddSingleton<SessionVectorCache>();
        services.AddSingleton<TextEncoding>();
        services.AddSingleton<ModelUnloader>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ModelUnloader>());
        services.AddSingleton<IStoredUsers, AdoNetStoredUsers>();
        services.AddSingleton<IStoredItems, AdoNetStoredItems>();
        services.AddSingleton<IStoredShards, AdoNetStoredShards>();
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

    /// <summary>The "Recommender" section, checked for what Orleans would otherwise throw on only once it starts.</summary>
    public static RecommenderOptions Bind(IConfiguration configuration)
    {
        var section = configuration.GetSection(RecommenderOptions.Section);
        EnumName<HostingMode>(section, "Mode");
        EnumName<ClusteringMode>(section, "Clustering:Mode");
        var settings = section.Get<RecommenderOptions>() ?? new RecommenderOptions();
        // Orleans looks the invariant up case-sensitively among the providers it knows; these are the ones shipped here.
        OneOf(settings.Storage.Invariant, "Recommender:Storage:Invariant", RecommenderOptions.SqliteInvariant, RecommenderOptions.PostgresInvariant);
        OneOf(settings.Clustering.Invariant, "Recommender:Clustering:Invariant", RecommenderOptions.PostgresInvariant);
        ConnectionString(settings.Storage.ConnectionString, "Recommender:Storage:ConnectionString");
        ConnectionString(settings.Clustering.ConnectionString, "Recommender:Clustering:ConnectionString");
        return settings;
    }

    /// <summary>The "Orleans" section; a blank cluster or service id is refused (Orleans would refuse it once started).</summary>
    public static OrleansEndpointOptions BindEndpoints(IConfiguration configuration)
    {
        var endpoints = configuration.GetSection(OrleansEndpointOptions.Section).Get<OrleansEndpointOptions>() ?? new OrleansEndpointOptions();
        foreach (var (key, value) in new[] { ("Orleans:ClusterId", endpoints.ClusterId), ("Orleans:ServiceId", endpoints.ServiceId) })
            if (string.IsNullOrWhiteSpace(value)) throw Invalid<OrleansEndpointOptions>(key, $"{key} must not be empty.");
        return endpoints;
    }

    // The binder takes any integer for an enum ("-1" becomes a mode that does not exist): only the names are accepted.
    private static void EnumName<TEnum>(IConfigurationSection section, string name) where TEnum : struct, Enum
    {
        var value = section[name];
        if (value is not null && !Enum.GetNames<TEnum>().Contains(value, StringComparer.OrdinalIgnoreCase))
        {
            var key = $"{RecommenderOptions.Section}:{name}";
            throw Invalid<RecommenderOptions>(key, $"{key} must be {string.Join(" or ", Enum.GetNames<TEnum>())}, not '{value}'.");
        }
    }

    private static void OneOf(string value, string key, params string[] accepted)
    {
        if (!accepted.Contains(value, StringComparer.Ordinal))
            throw Invalid<RecommenderOptions>(key, $"{key} must be {string.Join(" or ", accepted)} (spelt so), not '{value}'.");
    }

    private static void ConnectionString(string? value, string key)
    {
        if (string.IsNullOrWhiteSpace(value)) return;
        try
        {
            _ = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = value };
        }
        catch (ArgumentException e)
        {
            throw Invalid<RecommenderOptions>(key, $"{key} is not a connection string of key=value pairs: {e.Message}");
        }
    }

    private static void Validate(RecommenderOptions settings)
    {
        if (settings.Shards is < 0 or > 1024) throw Invalid<RecommenderOptions>("Recommender:Shards", $"Recommender:Shards must be 0 (automatic) to 1024, not {settings.Shards}.");
        if (string.IsNullOrWhiteSpace(settings.DataDirectory)) throw Invalid<RecommenderOptions>("Recommender:DataDirectory", "Recommender:DataDirectory is required.");
    }

    private static void Validate(InferenceOptions inference)
    {
        Batching<InferenceOptions>(inference.MaxBatch, inference.BatchWindow, inference.IntraOpThreads, "Recommender:Inference");
        if (inference.UnloadCheckInterval <= TimeSpan.Zero || inference.UnloadCheckInterval > TimeSpan.FromDays(1))
            throw Invalid<InferenceOptions>("Recommender:Inference:UnloadCheckInterval",
                $"Recommender:Inference:UnloadCheckInterval must be above zero and at most a day (such as 00:00:10), not {inference.UnloadCheckInterval}.");
    }

    private static void Validate(TextEncoderOptions text) =>
        Batching<TextEncoderOptions>(text.MaxBatch, text.BatchWindow, text.IntraOpThreads, "Recommender:TextEncoder");

    // A batch of none would never close, and its window is how long a lone request may wait: a second at most.
    private static void Batching<TOptions>(int maxBatch, TimeSpan window, int threads, string section)
    {
        if (maxBatch < 1) throw Invalid<TOptions>($"{section}:MaxBatch", $"{section}:MaxBatch must be at least 1, not {maxBatch}.");
        if (window < TimeSpan.Zero || window > TimeSpan.FromSeconds(1))
            throw Invalid<TOptions>($"{section}:BatchWindow", $"{section}:BatchWindow must be from 0 to 00:00:01, not {window}.");
        if (threads is < 0 or > Recommender.Model.ModelLimits.MaxThreads)
            throw Invalid<TOptions>($"{section}:IntraOpThreads", $"{section}:IntraOpThreads must be 0 (automatic) to {Recommender.Model.ModelLimits.MaxThreads}, not {threads}.");
    }

    // A bad serving setting stops the silo at start-up instead of failing requests later.
    private static void Validate(ServingOptions serving)
    {
        Positive(serving.SoftmaxTemperature, "Recommender:SoftmaxTemperature");
        Positive(serving.DotSoftmaxTemperature, "Recommender:DotSoftmaxTemperature");
        if (serving.HistoryWindow is < 1) throw Invalid<ServingOptions>("Recommender:HistoryWindow", $"Recommender:HistoryWindow must be at least 1, not {serving.HistoryWindow}.");
        if (serving.HistoryRetention < 1) throw Invalid<ServingOptions>("Recommender:HistoryRetention", $"Recommender:HistoryRetention must be at least 1, not {serving.HistoryRetention}.");
        if (serving.SessionCacheSize is < 0 or > 10_000_000)
            throw Invalid<ServingOptions>("Recommender:SessionCacheSize", $"Recommender:SessionCacheSize must be 0 (no cache) to 10000000 sessions, not {serving.SessionCacheSize}.");
        var popularity = serving.Popularity;
        AtLeastOne(popularity.ListSize, "Recommender:Popularity:ListSize");
        AtLeastOne(popularity.MinimumLiveCount, "Recommender:Popularity:MinimumLiveCount");
        PositiveTime(popularity.HalfLife, "Recommender:Popularity:HalfLife");
        PositiveTime(popularity.FlushInterval, "Recommender:Popularity:FlushInterval");
        PositiveTime(popularity.RefreshInterval, "Recommender:Popularity:RefreshInterval");
        PositiveTime(serving.EventJournalRetryInterval, "Recommender:EventJournalRetryInterval");
        PositiveTime(serving.EventJournalHandOutTimeout, "Recommender:EventJournalHandOutTimeout");
        // Zero is meaningful for these three (no cache; retire at once; no comparison), a negative span is not.
        UpToADay(serving.CatalogueCacheTtl, "Recommender:CatalogueCacheTtl");
        UpToADay(serving.RetireGrace, "Recommender:RetireGrace");
        UpToADay(serving.NextItemWindow, "Recommender:NextItemWindow");
        if (!(serving.SequentialTestLift is > 0 and <= 10))
            throw Invalid<ServingOptions>("Recommender:SequentialTestLift",
                $"Recommender:SequentialTestLift must be a relative change above 0 and at most 10 (such as 0.1 for 10 %), not {serving.SequentialTestLift}.");

        static void AtLeastOne(long value, string key)
        {
            if (value < 1) throw Invalid<ServingOptions>(key, $"{key} must be at least 1, not {value}.");
        }

        static void PositiveTime(TimeSpan value, string key)
        {
            if (value <= TimeSpan.Zero) throw Invalid<ServingOptions>(key, $"{key} must be a positive time span (such as 00:00:05), not {value}.");
        }

        static void UpToADay(TimeSpan value, string key)
        {
            if (value < TimeSpan.Zero || value > TimeSpan.FromDays(1))
                throw Invalid<ServingOptions>(key, $"{key} must be from 0 to a day (such as 00:00:30), not {value}.");
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

namespace Recommender.Hosting;

/// <summary>How the front end reaches the grains.</summary>
public enum HostingMode
{
    /// <summary>One node: the front end co-hosts a silo in-process (localhost clustering, SQLite storage).</summary>
    Embedded,

    /// <summary>The front end is an Orleans client of separately run silos.</summary>
    Cluster,

    /// <summary>The host registers its own IClusterClient (used when the API is hosted beside a test cluster).</summary>
    External,
}

public enum ClusteringMode
{
    /// <summary>Single node, no membership table.</summary>
    Localhost,

    /// <summary>Membership in a database through Orleans ADO.NET clustering (e.g. PostgreSQL).</summary>
    AdoNet,
}

/// <summary>The "Recommender" configuration section; every key is listed in CONFIGURATION.md.</summary>
public sealed class RecommenderOptions
{
    public const string Section = "Recommender";
    public const string SqliteInvariant = "System.Data.SQLite";
    public const string PostgresInvariant = "Npgsql";
    public const string DatabaseFile = "recommender.db";

    public HostingMode Mode { get; set; } = HostingMode.Embedded;

    /// <summary>Root of the node's files: the SQLite database (by default) and the model packages under models/.</summary>
    public string DataDirectory { get; set; } = "data";

    public StorageOptions Storage { get; set; } = new();

    public ClusteringOptions Clustering { get; set; } = new();

    /// <summary>Shards per activated model version; 0 = twice the silo's cores (2 to 64).</summary>
    public int Shards { get; set; }

    /// <summary>Load the demo catalogue and histories on first start with an empty store.</summary>
    public bool SeedDemo { get; set; } = true;

    public SeedOptions Seed { get; set; } = new();

    public string ModelsDirectory => Path.Combine(Path.GetFullPath(DataDirectory), "models");

    /// <summary>The configured connection string, or a SQLite file in the data directory.</summary>
    public string StorageConnectionString =>
        !string.IsNullOrWhiteSpace(Storage.ConnectionString)
            ? Storage.ConnectionString
            : $"Data Source={Path.Combine(Path.GetFullPath(DataDirectory), DatabaseFile)};Default Timeout=30";

    public bool UsesSqlite => string.Equals(Storage.Invariant, SqliteInvariant, StringComparison.OrdinalIgnoreCase);
}

public sealed class StorageOptions
{
    /// <summary>ADO.NET invariant: "System.Data.SQLite" (backed by Microsoft.Data.Sqlite) or "Npgsql".</summary>
    public string Invariant { get; set; } = RecommenderOptions.SqliteInvariant;

    public string? ConnectionString { get; set; }
}

public sealed class ClusteringOptions
{
    public ClusteringMode Mode { get; set; } = ClusteringMode.Localhost;

    public string Invariant { get; set; } = RecommenderOptions.PostgresInvariant;

    public string? ConnectionString { get; set; }
}

public sealed class SeedOptions
{
    /// <summary>A directory in MovieLens CSV layout (ratings.csv, movies.csv, optional tags.csv); empty = the bundled ml-latest-small.</summary>
    public string? Source { get; set; }

    /// <summary>Dimension of the baseline model built from the seed data.</summary>
    public int Dimension { get; set; } = 64;

    /// <summary>How many items the popularity list (served to users without history) keeps.</summary>
    public int PopularCount { get; set; } = 1000;

    public string SourceDirectory =>
        string.IsNullOrWhiteSpace(Source) ? Path.Combine(AppContext.BaseDirectory, "Demo", "ml-latest-small") : Path.GetFullPath(Source);

    /// <summary>
    /// A trained model package (directory) that the demo load registers and activates, the baseline staying registered
    /// as the fallback; empty = the bundled SASRec package when <see cref="Source"/> is empty too (none for another
    /// source); "none" = serve the baseline.
    /// </summary>
    public string? Model { get; set; }

    public const string NoModel = "none";

    /// <summary>The package directory <see cref="Model"/> resolves to, or null when the baseline is served.</summary>
    public string? ModelDirectory =>
        string.Equals(Model, NoModel, StringComparison.OrdinalIgnoreCase) ? null
        : !string.IsNullOrWhiteSpace(Model) ? Path.GetFullPath(Model)
        : string.IsNullOrWhiteSpace(Source) ? Path.Combine(AppContext.BaseDirectory, "Demo", "model")
        : null;
}

/// <summary>The "Orleans" section: cluster identity and ports.</summary>
public sealed class OrleansEndpointOptions
{
    public const string Section = "Orleans";

    public string ClusterId { get; set; } = "recommender";

    public string ServiceId { get; set; } = "recommender";

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// The address a silo publishes in the membership table for other silos and clients to reach it (e.g. the
    /// pod IP). Unset: the first IPv4 address of an interface that is up and not loopback, the only one it then
    /// listens on. Set: it listens on every interface, or on loopback alone for a loopback address.
    /// </summary>
    public string? AdvertisedIPAddress { get; set; }

    /// <summary>The silo's name in the membership table and logs (e.g. the pod name); unset: Orleans' generated one.</summary>
    public string? SiloName { get; set; }
}

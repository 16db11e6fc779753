using System.Diagnostics;
using Npgsql;

namespace Recommender.Deployment.Tests;

/// <summary>
/// A private PostgreSQL server from the machine's PostgreSQL binaries: its own data directory under
/// the temp folder, listening on a free loopback port, stopped and deleted on dispose. As root the
/// server runs as the "postgres" user, since PostgreSQL refuses to run as root.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string User = "postgres";
    private readonly string _bin;
    private readonly string _directory;
    private bool _running;

    private PostgresServer(string bin, string directory, int port)
    {
        _bin = bin;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The directory of the server's tools (psql, pg_ctl).</summary>
    public string BinDirectory => _bin;

    private string DataDirectory => Path.Combine(_directory, "data");

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = User,
        Database = database,
        Pooling = true,
        Timeout = 5,
    }.ConnectionString;

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = FindBinaries();
        var directory = Path.Combine(Path.GetTempPath(), "recommender-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var server = new PostgresServer(bin, directory, FreePorts.Next());
        if (IsRoot)
        {
            await ExternalCommand.RunAsync("chown", ["-R", User, directory]);
        }
        await server.RunPostgresTool("initdb", ["-D", server.DataDirectory, "-A", "trust", "-U", User, "-E", "UTF8", "--no-sync"]);
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts the (stopped) server again on the same port and data.</summary>
    public async Task StartAgainAsync()
    {
        // fsync off: test data need not survive a machine crash, only a server crash (an immediate stop), which
        // it does since every commit is still written to the WAL before it is acknowledged (synchronous_commit on).
        var options = $"-p {Port} -k {_directory} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off";
        await RunPostgresTool("pg_ctl", ["start", "-w", "-t", "60", "-D", DataDirectory, "-l", Path.Combine(_directory, "server.log"), "-o", options]);
        _running = true;
    }

    /// <summary>Stops the server abruptly (like a crash: no checkpoint, connections cut).</summary>
    public async Task StopAsync(bool immediate = false)
    {
        await RunPostgresTool("pg_ctl", ["stop", "-w", "-D", DataDirectory, "-m", immediate ? "immediate" : "fast"]);
        _running = false;
    }

    public async Task CreateDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task ExecuteScriptAsync(string database, string path) => await ExecuteAsync(database, await File.ReadAllTextAsync(path));

    public async Task ExecuteAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Makes a directory the server's own (it runs as another user under root), e.g. for a tablespace.</summary>
    public async Task GiveToServerAsync(string directory)
    {
        if (IsRoot)
        {
            await ExternalCommand.RunAsync("chown", ["-R", User, directory]);
        }
    }

    /// <summary>Creates a database holding the project's clustering and persistence schema, applied <paramref name="times"/> times.</summary>
    public async Task<string> CreateClusterDatabaseAsync(string name, int times = 1)
    {
        await CreateDatabaseAsync(name);
        for (var i = 0; i < times; i++)
        {
            await ExecuteScriptAsync(name, RepositoryPaths.Deploy("postgres", "clustering.sql"));
            await ExecuteScriptAsync(name, RepositoryPaths.Deploy("postgres", "persistence.sql"));
        }
        return ConnectionString(name);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_running)
        {
            await StopAsync(immediate: true);
        }
        Directory.Delete(_directory, recursive: true);
    }

    private static bool IsRoot => Environment.UserName == "root";

    private Task RunPostgresTool(string tool, IReadOnlyList<string> arguments)
    {
        var path = Path.Combine(_bin, tool);
        return IsRoot ? ExternalCommand.RunAsync("runuser", ["-u", User, "--", path, .. arguments]) : ExternalCommand.RunAsync(path, arguments);
    }

    /// <summary>
    /// The PostgreSQL server binaries: RECOMMENDER_PG_BIN if set (tests/run.sh exports it), else the
    /// newest /usr/lib/postgresql/VERSION/bin holding initdb (Debian's layout).
    /// </summary>
    private static string FindBinaries()
    {
        var configured = Environment.GetEnvironmentVariable("RECOMMENDER_PG_BIN");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(Path.Combine(configured, "initdb"))
                ? configured
                : throw new InvalidOperationException($"RECOMMENDER_PG_BIN={configured} holds no initdb.");
        }
        var found = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(version => Path.Combine(version, "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "initdb")))
                .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        return found ?? throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb) not found: install the Debian package 'postgresql' " +
            "(tests/run.sh does) or set RECOMMENDER_PG_BIN to the directory holding initdb and pg_ctl.");
    }
}

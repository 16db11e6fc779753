using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Recommender.Cli;

namespace Recommender.Cluster.Tests.Storage;

/// <summary>
/// `recommender move-to-cluster` refusals that need no PostgreSQL server: each a message naming what is wrong and exit
/// code 1, with nothing written to the cluster's directory (the move itself: tests/Recommender.Deployment.Tests/MoveToClusterTests).
/// </summary>
public sealed class MoveToClusterCommandTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "recommender-tests", "move-" + Guid.NewGuid().ToString("N"));

    public MoveToClusterCommandTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "node", "models", "v1"));
        File.WriteAllText(Path.Combine(_root, "node", "models", "v1", "manifest.json"), "{}");
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }

    private string Node => Path.Combine(_root, "node");

    private string ClusterData => Path.Combine(_root, "cluster");

    [Fact]
    public void Missing_or_foreign_sources_are_named()
    {
        var (exit, error) = Move("--data-directory", Path.Combine(_root, "absent"), "--cluster-data-directory", ClusterData, "--connection-string", "Host=127.0.0.1");
        Assert.Equal(1, exit);
        Assert.Contains($"--data-directory '{Path.Combine(_root, "absent")}' does not exist", error);

        (exit, error) = Move("--data-directory", Node, "--cluster-data-directory", ClusterData, "--connection-string", "Host=127.0.0.1");
        Assert.Equal(1, exit);
        Assert.Contains($"holds no {BackupCommand.DatabaseFile}", error);

        // An empty file is an empty SQLite database, but no node's.
        File.WriteAllText(Path.Combine(Node, BackupCommand.DatabaseFile), "");
        (exit, error) = Move("--data-directory", Node, "--cluster-data-directory", ClusterData, "--connection-string", $"Host=127.0.0.1;Port={ClosedPort()}");
        Assert.Equal(1, exit);
        Assert.Contains("is not a recommender node's database", error);

        // A named pipe (as a device would) is refused before a lock file is made beside it.
        var pipe = Path.Combine(_root, "pipe.db");
        Assert.Equal(0, Mono.Unix.Native.Syscall.mkfifo(pipe, Mono.Unix.Native.FilePermissions.DEFFILEMODE));
        (exit, error) = Move("--data-directory", Node, "--database", pipe, "--cluster-data-directory", ClusterData, "--connection-string", "Host=127.0.0.1");
        Assert.Equal(1, exit);
        Assert.Contains($"'{pipe}' is a named pipe, not a node's SQLite file", error);
        Assert.False(File.Exists(pipe + ".lock"));

        // A node's schema with nothing in it: nothing to move.
        File.Delete(Path.Combine(Node, BackupCommand.DatabaseFile));
        Hosting.Sql.SqliteStorageSchema.EnsureCreated($"Data Source={Path.Combine(Node, BackupCommand.DatabaseFile)}");
        SqliteConnection.ClearAllPools();
        (exit, error) = Move("--data-directory", Node, "--cluster-data-directory", ClusterData, "--connection-string", $"Host=127.0.0.1;Port={ClosedPort()}");
        Assert.Equal(1, exit);
        Assert.Contains("holds no data: there is nothing to move", error);
        Assert.False(Directory.Exists(Path.Combine(ClusterData, "models")));
    }

    [Fact]
    public void A_bad_connection_string_and_an_unreachable_database_are_named_and_nothing_is_placed()
    {
        WriteNodeRows(("recommender", "user"));
        var (exit, error) = Move("--data-directory", Node, "--cluster-data-directory", ClusterData);
        Assert.Equal(1, exit);
        Assert.Contains($"--connection-string or the {MoveToClusterCommand.ConnectionStringVariable} environment variable", error);

        (exit, error) = Move("--data-directory", Node, "--cluster-data-directory", ClusterData, "--connection-string", "Hots=127.0.0.1");
        Assert.Equal(1, exit);
        Assert.Contains("--connection-string is not an Npgsql connection string", error);

        (exit, error) = Move("--data-directory", Node, "--cluster-data-directory", ClusterData, "--connection-string", "Database=cluster");
        Assert.Equal(1, exit);
        Assert.Contains("--connection-string names no Host", error);

        var port = ClosedPort();
        (exit, error) = Move("--data-directory", Node, "--cluster-data-directory", ClusterData, "--connection-string", $"Host=127.0.0.1;Port={port};Database=cluster;Password=secret-word;Timeout=2");
        Assert.Equal(1, exit);
        Assert.Contains($"PostgreSQL at 127.0.0.1:{port}/cluster:", error);
        Assert.Contains("nothing was moved", error);
        Assert.DoesNotContain("secret-word", error);
        Assert.False(Directory.Exists(Path.Combine(ClusterData, "models")), "no package is placed before the database has been checked");
    }

    [Fact]
    public void Rows_of_several_services_need_the_node_service_named()
    {
        WriteNodeRows(("recommender", "user"), ("staging", "user"));
        var (exit, error) = Move("--data-directory", Node, "--cluster-data-directory", ClusterData, "--connection-string", $"Host=127.0.0.1;Port={ClosedPort()}");
        Assert.Equal(1, exit);
        Assert.Contains("holds data of several services ('recommender', 'staging'): name the node's with --node-service-id", error);

        (exit, error) = Move("--data-directory", Node, "--cluster-data-directory", ClusterData, "--connection-string", $"Host=127.0.0.1;Port={ClosedPort()}", "--node-service-id", "other");
        Assert.Equal(1, exit);
        Assert.Contains("--node-service-id 'other'", error);
        Assert.Contains("it holds data of 'recommender', 'staging'", error);
    }

    [Fact]
    public void A_running_node_is_not_moved()
    {
        WriteNodeRows(("recommender", "user"));
        var database = Path.Combine(Node, BackupCommand.DatabaseFile);
        Hosting.Sql.DataFileLock.Acquire($"Data Source={database}");
        var (exit, error) = Move("--data-directory", Node, "--cluster-data-directory", ClusterData, "--connection-string", $"Host=127.0.0.1;Port={ClosedPort()}");
        Assert.Equal(1, exit);
        Assert.Contains($"A node is running on '{database}'", error);
    }

    /// <summary>A node's file holding one grain state of each (service, grain type) given.</summary>
    private void WriteNodeRows(params (string Service, string GrainType)[] rows)
    {
        var database = Path.Combine(Node, BackupCommand.DatabaseFile);
        Hosting.Sql.SqliteStorageSchema.EnsureCreated($"Data Source={database}");
        using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        connection.Open();
        var n = 0;
        foreach (var (service, grainType) in rows)
        {
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version) " +
                "VALUES ($n, 0, 0, 7, $type, $key, $service, x'00', '2026-12-06T07:00:00.000Z', 1)";
            insert.Parameters.AddWithValue("$n", n);
            insert.Parameters.AddWithValue("$type", grainType);
            insert.Parameters.AddWithValue("$key", $"key-{n++}");
            insert.Parameters.AddWithValue("$service", service);
            insert.ExecuteNonQuery();
        }
    }

    /// <summary>A loopback port nothing listens on.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static (int Exit, string Error) Move(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CliCommands.RunAsync(CliCommands.Root(), ["move-to-cluster", .. args], new InvocationConfiguration { Output = output, Error = error }).GetAwaiter().GetResult();
        return (exit, error.ToString());
    }
}

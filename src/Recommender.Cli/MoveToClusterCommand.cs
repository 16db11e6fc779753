using System.CommandLine;
using System.Data.Common;
using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Npgsql;
using Spectre.Console;

namespace Recommender.Cli;

/// <summary>
/// recommender move-to-cluster: a single node outgrown, its data moved to a cluster on PostgreSQL: every user's history,
/// the catalogue, the models and their activation, as they were when the node stopped (<see cref="NodeToCluster"/>).
/// </summary>
internal static class MoveToClusterCommand
{
    /// <summary>The nodes' own setting, as an environment variable: the password stays out of the process list.</summary>
    public const string ConnectionStringVariable = "Recommender__Storage__ConnectionString";

    public static Command Create()
    {
        var data = new Option<string>("--data-directory")
        {
            Description = $"The single node's data directory (its Recommender:DataDirectory), holding {BackupCommand.DatabaseFile} and {BackupCommand.ModelsDirectory}/. The node must be stopped; it is read, not changed.",
            Required = true,
        };
        var databaseFile = new Option<string?>("--database")
        {
            Description = $"The node's SQLite file, when its Recommender:Storage:ConnectionString puts it elsewhere (default: {BackupCommand.DatabaseFile} in the data directory).",
        };
        var connection = new Option<string?>("--connection-string")
        {
            Description = $"The cluster's PostgreSQL database (an Npgsql connection string, the silos' Recommender:Storage:ConnectionString; default: the {ConnectionStringVariable} environment variable), with deploy/postgres/clustering.sql and persistence.sql applied, holding no data of the service and with no silo running.",
        };
        var clusterData = new Option<string>("--cluster-data-directory")
        {
            Description = $"The cluster's shared Recommender:DataDirectory; the node's model packages are copied to its {BackupCommand.ModelsDirectory}/.",
            Required = true,
        };
        var serviceId = new Option<string>("--service-id") { Description = "The cluster's Orleans:ServiceId.", DefaultValueFactory = _ => "recommender" };
        var nodeServiceId = new Option<string?>("--node-service-id") { Description = "The node's Orleans:ServiceId (default: the only one its file holds)." };
        var command = new Command("move-to-cluster", "Move a stopped single node's data (users' histories, the catalogue, models) into a cluster's PostgreSQL database and shared data directory.")
        {
            data, databaseFile, connection, clusterData, serviceId, nodeServiceId,
        };
        command.SetAction(parse => CommandErrors.Run(parse, console => Run(console, parse.InvocationConfiguration.Error,
            parse.GetValue(data)!, parse.GetValue(databaseFile), parse.GetValue(connection), parse.GetValue(clusterData)!,
            parse.GetValue(serviceId)!, parse.GetValue(nodeServiceId))));
        return command;
    }

    private static int Run(IAnsiConsole console, TextWriter error, string dataDirectory, string? databaseFile, string? connectionString,
        string clusterDataDirectory, string serviceId, string? nodeServiceId)
    {
        if (!Directory.Exists(dataDirectory)) throw new DirectoryNotFoundException($"--data-directory '{dataDirectory}' does not exist.");
        var database = Path.GetFullPath(databaseFile ?? Path.Combine(dataDirectory, BackupCommand.DatabaseFile));
        if (!File.Exists(database))
            throw new FileNotFoundException(databaseFile is null
                ? $"'{dataDirectory}' holds no {BackupCommand.DatabaseFile}: pass the directory the node's Recommender:DataDirectory names, or the file itself with --database."
                : $"--database '{databaseFile}' does not exist.");
        // A device or pipe is no database; its lock file would be made beside it (in /dev, for /dev/null).
        if (!OperatingSystem.IsWindows() && new Mono.Unix.UnixFileInfo(database).FileType is not Mono.Unix.FileTypes.RegularFile and var type)
            throw new IOException($"'{database}' is a {CommandErrors.Describe(type)}, not a node's SQLite file.");
        if (string.IsNullOrWhiteSpace(serviceId)) throw new ArgumentException("--service-id must not be empty.");
        connectionString ??= Environment.GetEnvironmentVariable(ConnectionStringVariable);
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new ArgumentException($"Name the cluster's database with --connection-string or the {ConnectionStringVariable} environment variable.");
        var target = TargetName(connectionString);
        CommandErrors.CheckDirectoryTarget(clusterDataDirectory, "--cluster-data-directory");
        var models = Path.Combine(Path.GetFullPath(clusterDataDirectory), BackupCommand.ModelsDirectory);

        var watch = Stopwatch.StartNew();
        MovedData moved;
        try
        {
            moved = WithProgress(console, (started, copied) => new NodeToCluster(database, Path.Combine(Path.GetFullPath(dataDirectory), BackupCommand.ModelsDirectory),
                connectionString, models, serviceId, nodeServiceId) { Started = started, Copied = copied }.Run());
        }
        catch (SqliteException e)
        {
            error.WriteLine($"error: {database}: {e.Message}");
            return 1;
        }
        catch (DbException e)
        {
            // Nothing was committed: the transaction rolled back and the packages placed were removed.
            error.WriteLine($"error: PostgreSQL at {target}: {e.Message}; nothing was moved.");
            return 1;
        }
        console.MarkupLineInterpolated(
            $"Moved {moved.GrainStates:N0} grain states, {moved.BulkItems:N0} bulk-loaded items and {moved.GrainRows:N0} grain rows into {target} (service '{serviceId}'), and {moved.PackagesCopied} model package(s) to {models}{(moved.PackagesAlreadyThere > 0 ? $" ({moved.PackagesAlreadyThere} already there)" : "")}, in {watch.Elapsed.TotalSeconds:0.0} s.");
        console.MarkupLine("Start the cluster's silos on this database and directory; the node's files are unchanged (do not start it again, or it goes on without the cluster).");
        return 0;
    }

    /// <summary>Host, port and database, never the password, for messages.</summary>
    private static string TargetName(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new ArgumentException($"--connection-string is not an Npgsql connection string: {CommandErrors.Message(e)}");
        }
        if (string.IsNullOrWhiteSpace(builder.Host)) throw new ArgumentException("--connection-string names no Host.");
        return $"{builder.Host}:{builder.Port}/{builder.Database ?? builder.Username ?? "(default database)"}";
    }

    private static T WithProgress<T>(IAnsiConsole console, Func<Action<string, long>, Action<long>, T> run)
    {
        T result = default!;
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                ProgressTask? current = null;
                result = run(
                    (what, total) =>
                    {
                        current?.StopTask();
                        current = context.AddTask(what, maxValue: Math.Max(total, 1));
                        if (total == 0) current.Value = 1;
                    },
                    copied => current?.Increment(copied));
                current?.StopTask();
            });
        return result;
    }
}

using System.CommandLine;
using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Spectre.Console;

namespace Recommender.Cli;

/// <summary>
/// recommender backup: a consistent copy of a single node's data directory while the node runs: the SQLite file as one
/// snapshot (VACUUM INTO reads it in one transaction and holds no writer up, the file being in WAL mode), then the model
/// packages, which never change once in place. Packages go second so that every package the snapshot's registry names
/// is in the copy; one registered in between is copied too, unnamed, and is ignored.
/// </summary>
internal static class BackupCommand
{
    public const string DatabaseFile = "recommender.db";
    public const string ModelsDirectory = "models";

    public static Command Create()
    {
        var data = new Option<string>("--data-directory")
        {
            Description = "The node's data directory (Recommender:DataDirectory), holding recommender.db and models/.",
            Required = true,
        };
        var databaseFile = new Option<string?>("--database")
        {
            Description = $"The node's SQLite file, when its Recommender:Storage:ConnectionString puts it elsewhere (default: {DatabaseFile} in the data directory). The backup holds it as {DatabaseFile}.",
        };
        var outDirectory = new Option<string>("--out") { Description = "A new or empty directory for the backup; start a node on it (or a copy of it) to restore.", Required = true };
        var command = new Command("backup", "Back up a single node's SQLite file and model packages while it runs.") { data, databaseFile, outDirectory };
        command.SetAction(parse => CommandErrors.Run(parse, console =>
            Run(console, parse.InvocationConfiguration.Error, parse.GetValue(data)!, parse.GetValue(databaseFile), parse.GetValue(outDirectory)!)));
        return command;
    }

    private static int Run(IAnsiConsole console, TextWriter error, string dataDirectory, string? databaseFile, string outDirectory)
    {
        var database = Path.GetFullPath(databaseFile ?? Path.Combine(dataDirectory, DatabaseFile));
        if (!File.Exists(database))
        {
            error.WriteLine(databaseFile is null
                ? $"error: '{dataDirectory}' holds no {DatabaseFile}: pass the directory the node's Recommender:DataDirectory names, or the file itself with --database."
                : $"error: --database '{databaseFile}' does not exist.");
            return 1;
        }
        if (!Directory.Exists(dataDirectory))
        {
            error.WriteLine($"error: --data-directory '{dataDirectory}' does not exist.");
            return 1;
        }
        var target = Path.GetFullPath(outDirectory);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
        {
            error.WriteLine($"error: '{outDirectory}' is not empty; a backup goes into a new or empty directory.");
            return 1;
        }
        if (File.Exists(target))
        {
            error.WriteLine($"error: '{outDirectory}' is a file; a backup goes into a new or empty directory.");
            return 1;
        }

        var watch = Stopwatch.StartNew();
        var created = !Directory.Exists(target);
        Directory.CreateDirectory(target);
        try
        {
            var (grainStates, integrity) = SnapshotDatabase(database, Path.Combine(target, DatabaseFile));
            if (integrity != "ok") throw new InvalidDataException($"The copy of {DatabaseFile} failed its integrity check: {integrity}");
            var packages = CopyPackages(Path.Combine(Path.GetFullPath(dataDirectory), ModelsDirectory), Path.Combine(target, ModelsDirectory));
            var megabytes = new FileInfo(Path.Combine(target, DatabaseFile)).Length / 1e6;
            console.MarkupLineInterpolated(
                $"Backed up {DatabaseFile} ({megabytes:0.0} MB, {grainStates:N0} grain states, integrity ok) and {packages} model package(s) to {target} in {watch.Elapsed.TotalSeconds:0.0} s.");
            return 0;
        }
        catch (Exception e)
        {
            // Half a backup must not pass for one.
            if (created) Directory.Delete(target, recursive: true);
            else foreach (var entry in Directory.EnumerateFileSystemEntries(target)) DeleteEntry(entry);
            if (e is not SqliteException) throw;
            error.WriteLine($"error: {database}: {e.Message}");
            return 1;
        }
    }

    /// <summary>Writes one consistent snapshot of the live database and checks it; returns its grain-state count and integrity.</summary>
    private static (long GrainStates, string Integrity) SnapshotDatabase(string database, string copy)
    {
        // Waits on a writer no longer than the node's own commands do.
        using (var source = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Default Timeout=30;Pooling=False"))
        {
            source.Open();
            using var schema = source.CreateCommand();
            schema.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'OrleansStorage'";
            if ((long)schema.ExecuteScalar()! == 0)
                throw new InvalidDataException($"'{database}' is not a recommender node's database: it has no OrleansStorage table.");
            using var vacuum = source.CreateCommand();
            vacuum.CommandText = "VACUUM INTO $copy";
            vacuum.Parameters.AddWithValue("$copy", copy);
            vacuum.ExecuteNonQuery();
        }
        using var check = new SqliteConnection($"Data Source={copy};Mode=ReadOnly;Pooling=False");
        check.Open();
        using var integrity = check.CreateCommand();
        integrity.CommandText = "PRAGMA integrity_check";
        var result = (string)integrity.ExecuteScalar()!;
        using var count = check.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM OrleansStorage";
        return ((long)count.ExecuteScalar()!, result);
    }

    /// <summary>Copies every package directory (not the staging and incoming ones, whose names start with a dot).</summary>
    private static int CopyPackages(string models, string copy)
    {
        if (!Directory.Exists(models)) return 0;
        var packages = 0;
        foreach (var package in Directory.GetDirectories(models).Where(d => !Path.GetFileName(d).StartsWith('.')))
        {
            CopyDirectory(package, Path.Combine(copy, Path.GetFileName(package)));
            packages++;
        }
        return packages;
    }

    internal static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
        foreach (var directory in Directory.GetDirectories(source)) CopyDirectory(directory, Path.Combine(destination, Path.GetFileName(directory)));
    }

    private static void DeleteEntry(string path)
    {
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        else File.Delete(path);
    }
}

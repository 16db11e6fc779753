using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Recommender.Cli;

/// <summary>What a move copied: rows of each table and model packages (those already in place, identical, counted apart).</summary>
internal sealed record MovedData(long GrainStates, long BulkItems, long GrainRows, int PackagesCopied, int PackagesAlreadyThere);

/// <summary>
/// Moves a stopped single node's state into a cluster's PostgreSQL database and shared data directory. Both stores hold
/// the same three tables (grain states, bulk-loaded items, grain rows; src/Recommender.Hosting/Sql/sqlite-storage.sql and
/// deploy/postgres/persistence.sql), written in the same Orleans binary format under the same grain identities, so the
/// rows are copied as they are, under the cluster's service id. Everything is checked before anything is written; the
/// packages go first and the rows in one transaction, so a failure leaves the cluster as it was.
/// </summary>
internal sealed class NodeToCluster(string database, string modelsSource, string connectionString, string modelsTarget, string serviceId, string? nodeServiceId)
{
    // As the node's DataFileLock names it (the tool does not reference the hosting library).
    private const string LockSuffix = ".lock";
    private static readonly string[] NodeTables = ["OrleansStorage", "RecommenderBulkItems", "RecommenderGrainRows"];

    /// <summary>Rows counted before the copy, so that a progress bar knows its length; reported once per table and per package.</summary>
    public Action<string, long>? Started { get; init; }

    /// <summary>Rows or packages copied since the last report.</summary>
    public Action<long>? Copied { get; init; }

    public MovedData Run()
    {
        // The node's own lock (src/Recommender.Hosting/Sql/DataFileLock.cs): held, no node can write the file meanwhile,
        // and a node still running would acknowledge events the cluster never gets.
        var lockPath = database + LockSuffix;
        var lockExisted = File.Exists(lockPath);
        FileStream nodeLock;
        try
        {
            nodeLock = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"A node is running on '{database}' (it holds '{lockPath}'): stop it first, so that every event it acknowledged is in the copy.", e);
        }
        try
        {
            using var source = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
            source.Open();
            // One read transaction: the copy is one snapshot of the file.
            using var snapshot = source.BeginTransaction(deferred: true);
            var tables = SourceTables(source);
            var fromService = NodeServiceId(source, tables);
            var counts = NodeTables.ToDictionary(t => t, t => tables.Contains(t) ? Count(source, $"SELECT COUNT(*) FROM {t} WHERE ServiceId = @service", fromService) : 0);
            var packages = Packages();

            using var target = new NpgsqlConnection(connectionString);
            target.Open();
            CheckTarget(target);
            var (toCopy, alreadyThere) = PackagesToCopy(packages);

            var placed = new List<string>();
            try
            {
                Started?.Invoke("model packages", toCopy.Count);
                foreach (var package in toCopy)
                {
                    placed.Add(Place(package));
                    Copied?.Invoke(1);
                }
                using var transaction = target.BeginTransaction();
                var grainStates = CopyGrainStates(source, target, fromService, counts["OrleansStorage"]);
                var bulkItems = tables.Contains("RecommenderBulkItems") ? CopyBulkItems(source, target, fromService, counts["RecommenderBulkItems"]) : 0;
                var grainRows = tables.Contains("RecommenderGrainRows") ? CopyGrainRows(source, target, fromService, counts["RecommenderGrainRows"]) : 0;
                if (grainStates != counts["OrleansStorage"] || bulkItems != counts["RecommenderBulkItems"] || grainRows != counts["RecommenderGrainRows"])
                    throw new InvalidDataException($"The copy wrote {grainStates}, {bulkItems} and {grainRows} rows where the node holds {counts["OrleansStorage"]}, {counts["RecommenderBulkItems"]} and {counts["RecommenderGrainRows"]}; nothing was committed.");
                transaction.Commit();
                return new MovedData(grainStates, bulkItems, grainRows, toCopy.Count, alreadyThere);
            }
            catch
            {
                foreach (var directory in placed) Directory.Delete(directory, recursive: true);
                throw;
            }
        }
        finally
        {
            nodeLock.Dispose();
            if (!lockExisted) File.Delete(lockPath);
        }
    }

    private HashSet<string> SourceTables(SqliteConnection source)
    {
        using var command = source.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table'";
        var tables = new HashSet<string>(StringComparer.Ordinal);
        using (var reader = command.ExecuteReader())
            while (reader.Read()) tables.Add(reader.GetString(0));
        if (!tables.Contains("OrleansStorage"))
            throw new InvalidDataException($"'{database}' is not a recommender node's database: it has no OrleansStorage table.");
        return tables;
    }

    /// <summary>The service the node's rows belong to: the one given, or the only one in the file.</summary>
    private string NodeServiceId(SqliteConnection source, HashSet<string> tables)
    {
        var services = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var table in NodeTables.Where(tables.Contains))
        {
            using var command = source.CreateCommand();
            command.CommandText = $"SELECT DISTINCT ServiceId FROM {table}";
            using var reader = command.ExecuteReader();
            while (reader.Read()) services.Add(reader.GetString(0));
        }
        if (nodeServiceId is not null)
        {
            if (!services.Contains(nodeServiceId))
                throw new ArgumentException($"--node-service-id '{nodeServiceId}': '{database}' holds no data of that service" +
                    (services.Count == 0 ? " (it holds none at all)." : $"; it holds data of {Quoted(services)}."));
            return nodeServiceId;
        }
        return services.Count switch
        {
            0 => throw new InvalidDataException($"'{database}' holds no data: there is nothing to move."),
            1 => services.Min!,
            _ => throw new ArgumentException($"'{database}' holds data of several services ({Quoted(services)}): name the node's with --node-service-id."),
        };
    }

    private static string Quoted(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));

    private static long Count(DbConnection connection, string sql, string service)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@service";
        parameter.Value = service;
        command.Parameters.Add(parameter);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>The cluster's schema is in place, holds nothing of the service yet, and no silo runs on it.</summary>
    private void CheckTarget(NpgsqlConnection target)
    {
        foreach (var table in NodeTables)
        {
            using var exists = new NpgsqlCommand("SELECT to_regclass(@table) IS NOT NULL", target);
            exists.Parameters.AddWithValue("table", table.ToLowerInvariant());
            if (!(bool)exists.ExecuteScalar()!)
                throw new InvalidDataException($"The cluster's database has no {table} table: apply deploy/postgres/clustering.sql and deploy/postgres/persistence.sql to it first (deploy/README.md).");
        }
        var held = NodeTables.Select(t => (Table: t, Rows: Count(target, $"SELECT COUNT(*) FROM {t.ToLowerInvariant()} WHERE serviceid = @service", serviceId))).Where(c => c.Rows > 0).ToList();
        if (held.Count > 0)
            throw new InvalidDataException($"The cluster's database already holds data of service '{serviceId}' ({string.Join(", ", held.Select(h => $"{h.Rows:N0} rows of {h.Table}"))}): " +
                "move a node into a database that holds none (a cluster started on it before, even once, has written its own), or give the cluster another --service-id.");
        using (var membership = new NpgsqlCommand("SELECT to_regclass('orleansmembershiptable') IS NOT NULL", target))
        {
            if (!(bool)membership.ExecuteScalar()!) return;
        }
        // Status 3 is Active; a silo writes IAmAliveTime every few minutes, so an older row is one that died without saying so.
        using var active = new NpgsqlCommand(
            "SELECT COUNT(*) FROM orleansmembershiptable WHERE status = 3 AND iamalivetime > now() - interval '10 minutes'", target);
        if (Convert.ToInt64(active.ExecuteScalar(), CultureInfo.InvariantCulture) is > 0 and var silos)
            throw new InvalidDataException($"{silos} silo(s) are active on the cluster's database: stop them, and move the node before the cluster starts (a silo running during the copy would not see it).");
    }

    private List<string> Packages() =>
        Directory.Exists(modelsSource)
            ? Directory.GetDirectories(modelsSource).Where(d => !Path.GetFileName(d).StartsWith('.')).Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>A package already in the cluster's directory must be the same files: a version never changes once placed.</summary>
    private (List<string> ToCopy, int AlreadyThere) PackagesToCopy(List<string> packages)
    {
        var toCopy = new List<string>();
        var alreadyThere = 0;
        foreach (var package in packages)
        {
            var placed = Path.Combine(modelsTarget, Path.GetFileName(package));
            if (File.Exists(placed))
                throw new IOException($"'{placed}' is a file where model package {Path.GetFileName(package)} goes.");
            if (!Directory.Exists(placed))
            {
                toCopy.Add(package);
                continue;
            }
            if (!SameFiles(package, placed))
                throw new IOException($"Model package {Path.GetFileName(package)} is already in '{modelsTarget}' with other files: a version names one package; remove the cluster's copy or the node's first.");
            alreadyThere++;
        }
        return (toCopy, alreadyThere);
    }

    private static bool SameFiles(string a, string b)
    {
        var aFiles = Directory.GetFiles(a, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(a, f)).Order(StringComparer.Ordinal).ToList();
        var bFiles = Directory.GetFiles(b, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(b, f)).Order(StringComparer.Ordinal).ToList();
        return aFiles.SequenceEqual(bFiles) && aFiles.All(f => Hash(Path.Combine(a, f)).AsSpan().SequenceEqual(Hash(Path.Combine(b, f))));
    }

    private static byte[] Hash(string file)
    {
        using var stream = File.OpenRead(file);
        return SHA256.HashData(stream);
    }

    /// <summary>Copies a package beside its place and renames it in, so that a silo never sees half of one.</summary>
    private string Place(string package)
    {
        Directory.CreateDirectory(modelsTarget);
        var staging = Path.Combine(modelsTarget, $".moving-{Guid.NewGuid():N}");
        var placed = Path.Combine(modelsTarget, Path.GetFileName(package));
        try
        {
            BackupCommand.CopyDirectory(package, staging);
            Directory.Move(staging, placed);
            return placed;
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    private long CopyGrainStates(SqliteConnection source, NpgsqlConnection target, string fromService, long rows) =>
        CopyTable("grain states", rows, source, target, fromService,
            "SELECT GrainTypeHash, GrainTypeString, GrainIdHash, GrainIdN0, GrainIdN1, GrainIdExtensionString, PayloadBinary, ModifiedOn, Version FROM OrleansStorage WHERE ServiceId = @service",
            "orleansstorage (serviceid, graintypehash, graintypestring, grainidhash, grainidn0, grainidn1, grainidextensionstring, payloadbinary, modifiedon, version)",
            (reader, write) =>
            {
                write.Write(checked((int)reader.GetInt64(0)), NpgsqlDbType.Integer);
                write.Write(reader.GetString(1), NpgsqlDbType.Varchar);
                write.Write(checked((int)reader.GetInt64(2)), NpgsqlDbType.Integer);
                write.Write(reader.GetInt64(3), NpgsqlDbType.Bigint);
                write.Write(reader.GetInt64(4), NpgsqlDbType.Bigint);
                write.Write(reader.GetString(5), NpgsqlDbType.Varchar);
                if (reader.IsDBNull(6)) write.WriteNull();
                else write.Write((byte[])reader.GetValue(6), NpgsqlDbType.Bytea);
                write.Write(ModifiedOn(reader.GetString(7)), NpgsqlDbType.TimestampTz);
                write.Write(checked((int)reader.GetInt64(8)), NpgsqlDbType.Integer);
            });

    private long CopyBulkItems(SqliteConnection source, NpgsqlConnection target, string fromService, long rows) =>
        CopyTable("bulk-loaded items", rows, source, target, fromService,
            "SELECT ItemId, Bucket, Payload, ImportedAt FROM RecommenderBulkItems WHERE ServiceId = @service",
            "recommenderbulkitems (serviceid, itemid, bucket, payload, importedat)",
            (reader, write) =>
            {
                write.Write(reader.GetString(0), NpgsqlDbType.Text);
                write.Write(checked((int)reader.GetInt64(1)), NpgsqlDbType.Integer);
                write.Write((byte[])reader.GetValue(2), NpgsqlDbType.Bytea);
                write.Write(reader.GetInt64(3), NpgsqlDbType.Bigint);
            });

    /// <summary>In the order the node first wrote each key, which the cluster's identity column keeps: a shard replays its rows in that order.</summary>
    private long CopyGrainRows(SqliteConnection source, NpgsqlConnection target, string fromService, long rows) =>
        CopyTable("grain rows", rows, source, target, fromService,
            "SELECT Owner, RowKey, Payload FROM RecommenderGrainRows WHERE ServiceId = @service ORDER BY Seq",
            "recommendergrainrows (serviceid, owner, rowkey, payload)",
            (reader, write) =>
            {
                write.Write(reader.GetString(0), NpgsqlDbType.Text);
                write.Write(reader.GetString(1), NpgsqlDbType.Text);
                write.Write((byte[])reader.GetValue(2), NpgsqlDbType.Bytea);
            });

    /// <summary>The node's rows of one table into the cluster's, each under the cluster's service id (the first column); returns the rows written.</summary>
    private long CopyTable(string what, long rows, SqliteConnection source, NpgsqlConnection target, string fromService, string select, string columns,
        Action<SqliteDataReader, NpgsqlBinaryImporter> writeRest)
    {
        Started?.Invoke(what, rows);
        using var read = source.CreateCommand();
        read.CommandText = select;
        read.Parameters.AddWithValue("@service", fromService);
        using var reader = read.ExecuteReader();
        using var write = target.BeginBinaryImport($"COPY {columns} FROM STDIN (FORMAT BINARY)");
        long copied = 0;
        while (reader.Read())
        {
            write.StartRow();
            write.Write(serviceId, NpgsqlDbType.Varchar);
            writeRest(reader, write);
            // Progress in steps of 1,000 rows: a callback per row would cost more than the copy.
            if (++copied % 1000 == 0) Copied?.Invoke(1000);
        }
        Copied?.Invoke(copied % 1000);
        return (long)write.Complete();
    }

    private static DateTime ModifiedOn(string stored) =>
        DateTime.TryParse(stored, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? DateTime.SpecifyKind(at, DateTimeKind.Utc)
            : throw new InvalidDataException($"'{stored}' in OrleansStorage.ModifiedOn is not a time.");
}

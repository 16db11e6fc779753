namespace Recommender.Hosting.Sql;

/// <summary>
/// Keeps two single-node processes off one SQLite file: each would run a cluster of its own over the same grain state.
/// The first node process on a file holds an exclusive lock on the file's ".lock" neighbour until it exits (the
/// operating system releases it however the process ends, a kill -9 included); silos of one process (tests) share it.
/// </summary>
public static class DataFileLock
{
    public const string Suffix = ".lock";
    private static readonly Dictionary<string, FileStream> Held = new(StringComparer.Ordinal);

    /// <summary>Takes the lock of the connection string's file for this process (none for an in-memory database).</summary>
    /// <exception cref="DataFileException">Another process holds it.</exception>
    public static void Acquire(string connectionString)
    {
        if (SqliteStorageSchema.FilePath(connectionString) is not { } file) return;
        var path = Path.GetFullPath(file) + Suffix;
        lock (Held)
        {
            if (Held.ContainsKey(path)) return;
            try
            {
                // FileShare.None is an exclusive advisory lock (flock) on Linux and a share lock on Windows.
                var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                stream.SetLength(0);
                stream.Write(System.Text.Encoding.UTF8.GetBytes($"{Environment.ProcessId}\n"));
                stream.Flush();
                Held[path] = stream;
            }
            catch (IOException e)
            {
                throw new DataFileException($"Another node is using the data file '{Path.GetFullPath(file)}' (it holds '{path}'): " +
                    "stop it, or give this node a Recommender:DataDirectory of its own.", e);
            }
        }
    }
}

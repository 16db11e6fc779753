namespace Recommender.Deployment.Tests;

/// <summary>A tmpfs of a few megabytes (mounting one needs root, as tests/run.sh runs), filled and freed on demand.</summary>
internal sealed class SmallDisk : IAsyncDisposable
{
    private readonly string _root;

    private SmallDisk(string root)
    {
        _root = root;
        Directory.CreateDirectory(Path);
        Directory.CreateDirectory(LogDirectory);
    }

    public string Path => System.IO.Path.Combine(_root, "disk");

    public string LogDirectory => System.IO.Path.Combine(_root, "logs");

    private string Filler => System.IO.Path.Combine(Path, "filler");

    public static async Task<SmallDisk> MountAsync(int megabytes)
    {
        var disk = new SmallDisk(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "recommender-full-disk-" + Guid.NewGuid().ToString("N")));
        await ExternalCommand.RunAsync("mount", ["-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", disk.Path]);
        return disk;
    }

    /// <summary>Writes zeros until the disk has no space left, then gives <paramref name="leaveBytes"/> back.</summary>
    public void Fill(int leaveBytes)
    {
        var chunk = new byte[64 * 1024];
        using var filler = new FileStream(Filler, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1);
        try
        {
            while (true) filler.Write(chunk);
        }
        catch (IOException)
        {
        }
        filler.SetLength(Math.Max(0, filler.Length - leaveBytes));
    }

    public void Free() => File.Delete(Filler);

    public async ValueTask DisposeAsync()
    {
        // Lazily: a process that still holds a file there must not keep the mount.
        await ExternalCommand.RunAsync("umount", ["-l", Path]);
        Directory.Delete(_root, recursive: true);
    }
}

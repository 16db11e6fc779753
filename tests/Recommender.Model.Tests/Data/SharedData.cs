namespace Recommender.Model.Tests.Data;

/// <summary>Locates the shared data sets beside the repository (../shared/data from the directory holding Cluster.sln).</summary>
internal static class SharedData
{
    public static string Path(params string[] parts)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(System.IO.Path.Combine(directory.FullName, "Cluster.sln")))
            directory = directory.Parent;
        if (directory is null) throw new InvalidOperationException($"No Cluster.sln above {AppContext.BaseDirectory}; cannot locate the shared data.");
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine([directory.FullName, "..", "shared", "data", .. parts]));
        if (!File.Exists(path) && !Directory.Exists(path))
            throw new InvalidOperationException($"Test data '{path}' is missing: the shared data sets must sit in ../shared/data next to the repository.");
        return path;
    }

    public static string TempDirectory()
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "recommender-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}

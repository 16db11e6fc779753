namespace Recommender.Cluster.Tests.Infrastructure;

/// <summary>Locates the repository (the directory holding Cluster.sln) and the shared data beside it.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string SharedData => Path.GetFullPath(Path.Combine(Root, "..", "shared", "data"));

    /// <summary>A directory under the shared data; fails (never skips) with a clear message when it is missing.</summary>
    public static string RequireSharedData(string relative)
    {
        var path = Path.Combine(SharedData, relative);
        if (!Directory.Exists(path) && !File.Exists(path))
            Assert.Fail($"Test data '{path}' is missing: the shared data sets must sit in ../shared/data next to the repository.");
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Cluster.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No Cluster.sln above {AppContext.BaseDirectory}.");
    }
}

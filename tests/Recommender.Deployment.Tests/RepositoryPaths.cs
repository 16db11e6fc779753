namespace Recommender.Deployment.Tests;

/// <summary>Locates the repository (the directory holding Cluster.sln) and the build outputs of sibling projects.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Deploy(params string[] parts) => Path.Combine([Root, "deploy", .. parts]);

    /// <summary>
    /// The built entry assembly of another project of this build. With the artifacts layout every
    /// project's output sits beside this test project's, under the same configuration folder.
    /// </summary>
    public static string ProjectOutput(string project, string? assembly = null)
    {
        var own = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = own.Name;
        var binRoot = own.Parent!.Parent!.FullName;
        var path = Path.Combine(binRoot, project, configuration, (assembly ?? project) + ".dll");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Build output of {project} not found at {path}; build the solution first.", path);
        }
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Cluster.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No Cluster.sln above {AppContext.BaseDirectory}: cannot locate the repository root.");
    }
}

using Recommender.Model.Tests.Data;

namespace Recommender.Model.Tests;

/// <summary>A temporary directory a test class writes its input files into; deleted when the class is disposed.</summary>
internal sealed class ScratchDirectory : IDisposable
{
    public string Path { get; } = SharedData.TempDirectory();

    /// <summary>The path of <paramref name="name"/> inside the directory (nothing is created).</summary>
    public string this[string name] => System.IO.Path.Combine(Path, name);

    /// <summary>Writes <paramref name="lines"/> to <paramref name="name"/> and returns its path.</summary>
    public string Write(string name, params string[] lines)
    {
        var path = this[name];
        File.WriteAllLines(path, lines);
        return path;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

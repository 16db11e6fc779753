using System.Collections.Concurrent;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;

namespace Recommender.Grains.Inference;

/// <summary>
/// The model packages under the models directory ("{directory}/{version}/"), loaded once per silo and shared by
/// every grain on it, so a silo holds one ONNX session per model version.
/// </summary>
public sealed class ModelRegistry(string modelsDirectory, OnnxThreading threading, InferenceOptions? batching = null, ServingMetrics? metrics = null) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<LoadedModel>> _models = new(StringComparer.Ordinal);

    public string ModelsDirectory { get; } = modelsDirectory;

    public string PathOf(string version) => Path.Combine(ModelsDirectory, version);

    public bool Exists(string version) => File.Exists(Path.Combine(PathOf(version), ModelPackage.ManifestFile));

    /// <summary>The loaded package of <paramref name="version"/>; a missing or broken package throws, naming the file.</summary>
    public LoadedModel Get(string version)
    {
        var lazy = _models.GetOrAdd(version, v => new Lazy<LoadedModel>(() => new LoadedModel(ModelPackage.Load(PathOf(v)), threading, batching, metrics)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            // A failed load is not cached: the package may be written a moment later.
            _models.TryRemove(KeyValuePair.Create(version, lazy));
            throw;
        }
    }

    /// <summary>Saves a package under its version and returns it loaded.</summary>
    public LoadedModel Save(ModelPackage package)
    {
        SaveAtomically(package);
        return Get(package.Manifest.Version);
    }

    /// <summary>
    /// Writes the package into a staging directory and renames it into place, so that a reader never sees a
    /// half-written version; a stale directory of the same version (left by an earlier failed write) is replaced.
    /// </summary>
    public void SaveAtomically(ModelPackage package)
    {
        Directory.CreateDirectory(ModelsDirectory);
        var staging = Path.Combine(ModelsDirectory, $".staging-{Guid.NewGuid():N}");
        try
        {
            package.Save(staging);
            var target = PathOf(package.Manifest.Version);
            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
            Directory.Move(staging, target);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
        _models.TryRemove(package.Manifest.Version, out _);
    }

    public void Dispose()
    {
        foreach (var lazy in _models.Values)
            if (lazy.IsValueCreated) lazy.Value.Dispose();
    }
}

using System.Collections.Concurrent;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;

namespace Recommender.Grains.Inference;

/// <summary>
/// The model packages under the models directory ("{directory}/{version}/"), loaded once per silo and shared by
/// every grain on it, so a silo holds one ONNX session per model version.
/// </summary>
public sealed class ModelRegistry(string modelsDirectory, OnnxThreading threading) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<LoadedModel>> _models = new(StringComparer.Ordinal);

    public string ModelsDirectory { get; } = modelsDirectory;

    public string PathOf(string version) => Path.Combine(ModelsDirectory, version);

    public bool Exists(string version) => File.Exists(Path.Combine(PathOf(version), ModelPackage.ManifestFile));

    /// <summary>The loaded package of <paramref name="version"/>; a missing or broken package throws, naming the file.</summary>
    public LoadedModel Get(string version)
    {
        var lazy = _models.GetOrAdd(version, v => new Lazy<LoadedModel>(() => new LoadedModel(ModelPackage.Load(PathOf(v)), threading)));
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
        package.Save(PathOf(package.Manifest.Version));
        return Get(package.Manifest.Version);
    }

    public void Dispose()
    {
        foreach (var lazy in _models.Values)
            if (lazy.IsValueCreated) lazy.Value.Dispose();
    }
}

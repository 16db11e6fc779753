using System.Collections.Concurrent;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;

namespace Recommender.Grains.Inference;

/// <summary>
/// The model packages under the models directory ("{directory}/{version}/"), loaded once per silo and shared by
/// every grain on it, so a silo holds one ONNX session per model version; a version no longer served is unloaded
/// (<see cref="ModelUnloader"/>) once the requests using it have finished.
/// </summary>
public sealed class ModelRegistry(string modelsDirectory, OnnxThreading threading, InferenceOptions? batching = null, ServingMetrics? metrics = null, ComputeGate? gate = null) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<LoadedModel>> _models = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<LoadedModel, string> _unloading = new();

    public string ModelsDirectory { get; } = modelsDirectory;

    /// <summary>The directory of a version; only a valid version name (a plain file name) is ever joined to the path.</summary>
    public string PathOf(string version) => ModelPackage.IsValidVersion(version)
        ? Path.Combine(ModelsDirectory, version)
        : throw new ArgumentException($"'{version}' is not a valid model version.", nameof(version));

    /// <summary>
    /// Where an operator places a package too large to upload ("{models}/.incoming/{version}/": on the models
    /// directory's file system, so adopting it is a rename, and under a name no version can have).
    /// </summary>
    public string IncomingPathOf(string version) => Path.Combine(ModelsDirectory, IncomingDirectory, Path.GetFileName(PathOf(version)));

    public const string IncomingDirectory = ".incoming";

    /// <summary>
    /// Takes the package placed for <paramref name="version"/> out of the incoming directory into a private staging
    /// directory (a rename), so that what is checked there is what is registered; null when nothing is placed.
    /// </summary>
    public string? StageIncoming(string version)
    {
        var incoming = IncomingPathOf(version);
        if (!Directory.Exists(incoming)) return null;
        var staging = Path.Combine(ModelsDirectory, $"{PlacingPrefix}{Guid.NewGuid():N}");
        Directory.Move(incoming, staging);
        return staging;
    }

    private const string PlacingPrefix = ".placing-";

    /// <summary>Puts a staged package back in the incoming directory (unless the operator has placed another there since, which wins).</summary>
    public void ReturnStaged(string version, string staging)
    {
        if (!Directory.Exists(CheckedStaging(staging))) return;
        if (Directory.Exists(IncomingPathOf(version))) Directory.Delete(staging, recursive: true);
        else Directory.Move(staging, IncomingPathOf(version));
    }

    /// <summary>Moves a checked staged package into place, replacing a stale directory or file of the version (a registered version is never adopted over).</summary>
    public void AdoptStaged(string version, string staging)
    {
        var target = PathOf(version);
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        else if (File.Exists(target)) File.Delete(target);
        Directory.Move(CheckedStaging(staging), target);
        _models.TryRemove(version, out _);
    }

    /// <summary>Moves an adopted package back to staging (its registration could not be recorded).</summary>
    public void UnadoptTo(string version, string staging)
    {
        _models.TryRemove(version, out _);
        if (Directory.Exists(PathOf(version)) && !Directory.Exists(CheckedStaging(staging))) Directory.Move(PathOf(version), staging);
    }

    private string CheckedStaging(string staging) => Checked(staging, PlacingPrefix, "a staging directory");

    // Only a directory of the kind this registry made is ever moved or deleted.
    private string Checked(string path, string prefix, string kind) =>
        Path.GetDirectoryName(path) == ModelsDirectory && Path.GetFileName(path).StartsWith(prefix, StringComparison.Ordinal)
            ? path
            : throw new ArgumentException($"'{path}' is not {kind} of {ModelsDirectory}.", nameof(path));

    private const string WithdrawnPrefix = ".deleting-";

    /// <summary>
    /// Takes a version's package out of the models directory (a rename, so no silo loads it from then on) and drops it
    /// from this silo; returns where it went, for <see cref="Restore"/> or <see cref="Purge"/>, or null when there
    /// was no package.
    /// </summary>
    public string? Withdraw(string version)
    {
        var path = PathOf(version);
        if (!Directory.Exists(path)) return null;
        var aside = Path.Combine(ModelsDirectory, $"{WithdrawnPrefix}{Guid.NewGuid():N}");
        Directory.Move(path, aside);
        _ = Unload(version);
        return aside;
    }

    /// <summary>Puts a withdrawn package back under its version (its deletion could not be recorded).</summary>
    public void Restore(string version, string aside)
    {
        if (Directory.Exists(CheckedWithdrawn(aside)) && !Directory.Exists(PathOf(version))) Directory.Move(aside, PathOf(version));
    }

    /// <summary>Deletes a withdrawn package's files.</summary>
    public void Purge(string aside)
    {
        if (Directory.Exists(CheckedWithdrawn(aside))) Directory.Delete(aside, recursive: true);
    }

    /// <summary>Deletes the files of packages whose deletion was interrupted; returns how many there were.</summary>
    public int PurgeWithdrawn()
    {
        if (!Directory.Exists(ModelsDirectory)) return 0;
        var left = Directory.GetDirectories(ModelsDirectory, WithdrawnPrefix + "*");
        foreach (var aside in left) Purge(aside);
        return left.Length;
    }

    private string CheckedWithdrawn(string aside) => Checked(aside, WithdrawnPrefix, "a withdrawn package");

    public bool Exists(string version) => ModelPackage.IsValidVersion(version) && File.Exists(Path.Combine(PathOf(version), ModelPackage.ManifestFile));

    /// <summary>The loaded package of <paramref name="version"/>; a missing or broken package throws, naming the file.</summary>
    public LoadedModel Get(string version)
    {
        var lazy = _models.GetOrAdd(version, v => new Lazy<LoadedModel>(() => new LoadedModel(ModelPackage.Load(PathOf(v)), threading, batching, metrics, gate)));
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

    /// <summary>
    /// The interest vector of a history under <paramref name="version"/>, holding a lease on the version's sessions for
    /// the call, so that an unload waits for it; a version unloaded meanwhile is simply loaded again.
    /// </summary>
    public async Task<float[]> EncodeAsync(string version, IEnumerable<string> history)
    {
        while (true)
        {
            var model = Get(version);
            if (!model.TryAcquire()) continue;
            try
            {
                return await model.Batcher.EncodeAsync(model.ToDense(history));
            }
            finally
            {
                model.Release();
            }
        }
    }

    /// <summary>Versions loaded on this silo (their vectors in memory), in use or not.</summary>
    public IReadOnlyList<string> Loaded => _models.Where(p => p.Value.IsValueCreated).Select(p => p.Key).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Versions whose encoder has an open ONNX Runtime session on this silo.</summary>
    public IReadOnlyList<string> OpenSessions =>
        _models.Where(p => p.Value.IsValueCreated && p.Value.Value.HasOpenSession).Select(p => p.Key)
            .Concat(_unloading.Where(p => p.Key.HasOpenSession).Select(p => p.Value))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// Drops <paramref name="version"/> from this silo: later requests load it again, and its sessions are disposed
    /// once the requests using them have finished (the returned task completes then).
    /// </summary>
    public Task Unload(string version)
    {
        if (!_models.TryRemove(version, out var lazy) || !lazy.IsValueCreated) return Task.CompletedTask;
        LoadedModel model;
        try { model = lazy.Value; }
        catch { return Task.CompletedTask; }
        // Listed as open until the last request using it has finished and the sessions are gone.
        _unloading[model] = version;
        _ = model.Disposed.ContinueWith(_ => _unloading.TryRemove(model, out string? _), TaskScheduler.Default);
        model.Retire();
        metrics?.Unloaded(version);
        return model.Disposed;
    }

    /// <summary>
    /// Unloads every loaded version other than those <paramref name="serving"/> that has not encoded anything for
    /// <paramref name="idleFor"/> and holds a session or was deleted (its vectors go too); returns the versions.
    /// </summary>
    public IReadOnlyList<string> UnloadIdle(IReadOnlyCollection<string> serving, TimeSpan idleFor)
    {
        var idle = _models
            .Where(p => !serving.Contains(p.Key) && p.Value.IsValueCreated && (p.Value.Value.HasOpenSession || !Exists(p.Key)) && p.Value.Value.IdleFor >= idleFor)
            .Select(p => p.Key)
            .ToArray();
        foreach (var version in idle) _ = Unload(version);
        return idle;
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
        foreach (var model in _unloading.Keys) model.Dispose();
    }
}

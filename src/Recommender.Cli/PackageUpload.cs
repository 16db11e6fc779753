using System.Net.Http.Headers;
using Recommender.Model.Packaging;

namespace Recommender.Cli;

/// <summary>A package's files as the upload sends them, read once and checked.</summary>
internal sealed class PackageUpload
{
    private readonly (string Part, string File, byte[] Bytes)[] _parts;

    private PackageUpload(ModelPackage package, (string, string, byte[])[] parts)
    {
        Package = package;
        _parts = parts;
    }

    /// <summary>The package as loaded (and checked) from its directory.</summary>
    public ModelPackage Package { get; }

    public ModelManifest Manifest => Package.Manifest;

    public bool TextProjection => Package.HasTextProjection;

    /// <summary>
    /// The package in <paramref name="directory"/>; an inconsistent package is an error, and so is one past the API's
    /// upload limit when it is to be <paramref name="uploaded"/>.
    /// </summary>
    public static PackageUpload Read(string directory, bool uploaded)
    {
        // Load checks the files against each other (ids, dimensions, text fields), as the cluster will.
        var package = ModelPackage.Load(directory);
        (string, string, byte[])[] parts =
        [
            ("manifest", ModelPackage.ManifestFile, File.ReadAllBytes(Path.Combine(directory, ModelPackage.ManifestFile))),
            ("encoder", ModelPackage.EncoderFile, File.ReadAllBytes(Path.Combine(directory, ModelPackage.EncoderFile))),
            ("embeddings", ModelPackage.EmbeddingsFile, File.ReadAllBytes(Path.Combine(directory, ModelPackage.EmbeddingsFile))),
            .. package.HasTextProjection ? [("text_projection", ModelPackage.TextProjectionFile, package.TextProjectionOnnx!)] : Array.Empty<(string, string, byte[])>(),
        ];
        var upload = new PackageUpload(package, parts);
        if (!uploaded) return upload;
        using var request = upload.Request();
        var length = request.Content!.Headers.ContentLength ?? parts.Sum(p => (long)p.Item3.Length);
        if (length > PublishCommand.MaxUploadBytes)
            throw new ArgumentException($"{directory} makes an upload of {length / 1048576.0:0.#} MiB, past the {PublishCommand.MaxUploadBytes / 1048576} MiB the API takes: give " +
                $"--incoming-directory, the cluster's models/.incoming under its data directory, to place it there and register it (POST /models/{package.Manifest.Version}/register).");
        return upload;
    }

    /// <summary>The manifest's metric <paramref name="name"/>; an error naming those it has when it is not there.</summary>
    public double Metric(string name) =>
        Manifest.Metrics?.TryGetValue(name, out var value) == true ? value
            : throw new ArgumentException($"the package's manifest has no metric '{name}'" +
                (Manifest.Metrics is { Count: > 0 } m ? $"; it has {string.Join(", ", m.Keys)}." : "; it has none (train with --val-input and --val-output to record val_ndcg@10 and val_hr@10)."));

    /// <summary>
    /// Copies the package's files to <paramref name="target"/>, through a directory beside it renamed into place,
    /// unless the same files wait there already (an earlier run's); other files there are an error.
    /// </summary>
    public void PlaceIn(string target)
    {
        if (Directory.Exists(target))
        {
            var there = Directory.GetFiles(target).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
            if (there.SequenceEqual(_parts.Select(p => p.File).Order(StringComparer.Ordinal))
                && _parts.All(p => File.ReadAllBytes(Path.Combine(target, p.File)).AsSpan().SequenceEqual(p.Bytes)))
                return;
            throw new IOException($"{target} holds another package waiting to be registered: remove it, or export this one under a version of its own.");
        }
        var staging = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.publishing-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(staging);
            foreach (var (_, file, bytes) in _parts) File.WriteAllBytes(Path.Combine(staging, file), bytes);
            Directory.Move(staging, target);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    public HttpRequestMessage Request()
    {
        var form = new MultipartFormDataContent();
        foreach (var (part, file, bytes) in _parts)
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(content, part, file);
        }
        return new HttpRequestMessage(HttpMethod.Post, "models") { Content = form };
    }

    /// <summary>How the registered version differs from this package, as far as the registry describes it.</summary>
    public List<string> Differences(PublishCommand.RegisteredModel model)
    {
        var differences = new List<string>();
        void Compare<T>(string what, T registered, T local)
        {
            if (!EqualityComparer<T>.Default.Equals(registered, local)) differences.Add($"{what} {registered} there, {local} here");
        }
        Compare("kind", model.Kind, Manifest.Kind);
        Compare("dimension", model.Dimension, Manifest.Dimension);
        Compare("max length", model.MaxLength, Manifest.MaxLength);
        Compare("similarity", model.Similarity, Manifest.Similarity);
        Compare("items", model.ItemCount, Manifest.ItemCount);
        Compare("item representation", model.ItemRepresentation, Manifest.ItemRepresentation);
        Compare("text projection", model.TextProjection, TextProjection);
        var there = model.Metrics ?? new Dictionary<string, double>();
        var here = Manifest.Metrics ?? new Dictionary<string, double>();
        if (there.Count != here.Count || there.Any(p => !here.TryGetValue(p.Key, out var v) || v != p.Value))
            differences.Add("other metrics");
        return differences;
    }
}

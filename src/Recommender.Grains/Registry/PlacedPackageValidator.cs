using Recommender.Abstractions;
using Recommender.Model.Packaging;

namespace Recommender.Grains.Registry;

/// <summary>
/// Checks a package placed by hand in a directory as <see cref="ModelUploadValidator"/> checks an upload, reading
/// the files in place, and requires its manifest to name the version it is placed under.
/// </summary>
public static class PlacedPackageValidator
{
    /// <summary>Checks the files in <paramref name="directory"/>; messages name them as placed at <paramref name="placedAt"/>.</summary>
    public static (ModelPackage? Package, IReadOnlyList<UploadError> Errors) Validate(string version, string directory, string placedAt)
    {
        if (!File.Exists(Path.Combine(directory, ModelPackage.ManifestFile)))
            return (null, [new UploadError("version", $"No package is placed at {placedAt} (no {ModelPackage.ManifestFile}).")]);
        byte[]? Read(string file) => File.Exists(Path.Combine(directory, file)) ? File.ReadAllBytes(Path.Combine(directory, file)) : null;
        byte[]? manifest, encoder, embeddings, projection;
        try
        {
            (manifest, encoder, embeddings, projection) = (Read(ModelPackage.ManifestFile), Read(ModelPackage.EncoderFile), Read(ModelPackage.EmbeddingsFile), Read(ModelPackage.TextProjectionFile));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OutOfMemoryException)
        {
            // A file above 2 GB cannot be read into one array, nor served.
            return (null, [new UploadError("version", $"The package placed at {placedAt} could not be read: {e.Message}")]);
        }
        var errors = new List<UploadError>();
        if (encoder is null) errors.Add(new UploadError("encoder", $"{Path.Combine(placedAt, ModelPackage.EncoderFile)} is missing."));
        if (embeddings is null) errors.Add(new UploadError("embeddings", $"{Path.Combine(placedAt, ModelPackage.EmbeddingsFile)} is missing."));
        if (errors.Count > 0) return (null, errors);
        var (package, problems) = ModelUploadValidator.Validate(new ModelUpload(manifest!, encoder!, embeddings!, projection));
        if (package is not null && package.Manifest.Version != version)
            return (null, [new UploadError("manifest", $"The manifest names version '{package.Manifest.Version}', but the package is placed under '{version}'.")]);
        return (package, problems);
    }
}

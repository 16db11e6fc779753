using System.Runtime.InteropServices;
using System.Text.Json;
using Recommender.Abstractions;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;
using Recommender.Model.Text;

namespace Recommender.Grains.Registry;

/// <summary>
/// Checks an uploaded package completely before anything is stored: the manifest parses and is consistent, the
/// embeddings have ItemCount x Dimension finite values, no row longer than Limits.MaxVectorNorm, and the encoder loads in ONNX Runtime, has the contract's
/// input and output, and turns probe histories (a full window of the first items, one of the last, a single item) into
/// finite vectors of the manifest's dimension. An optional text
/// projection must read the cluster's text vectors (its encoder and width) and map them to finite item vectors of
/// the manifest's dimension.
/// </summary>
public static class ModelUploadValidator
{
    // A misspelt field ("similarty") is refused, not read as its default.
    private static readonly JsonSerializerOptions StrictManifestOptions = new(ModelPackage.JsonOptions)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    public static (ModelPackage? Package, IReadOnlyList<UploadError> Errors) Validate(ModelUpload upload)
    {
        var errors = new List<UploadError>();
        if (upload.Manifest.Length == 0) errors.Add(new("manifest", $"{ModelPackage.ManifestFile} is empty."));
        if (upload.Encoder.Length == 0) errors.Add(new("encoder", $"{ModelPackage.EncoderFile} is empty."));
        if (upload.Embeddings.Length == 0) errors.Add(new("embeddings", $"{ModelPackage.EmbeddingsFile} is empty."));
        if (upload.TextProjection is { Length: 0 }) errors.Add(new(TextProjectionPart, $"{ModelPackage.TextProjectionFile} is empty."));
        if (errors.Count > 0) return (null, errors);

        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ModelManifest>(upload.Manifest, StrictManifestOptions);
        }
        catch (JsonException e)
        {
            return (null, [new("manifest", $"{ModelPackage.ManifestFile} is not a valid manifest: {e.Message}")]);
        }
        if (manifest is null) return (null, [new("manifest", $"{ModelPackage.ManifestFile} is null.")]);
        if (manifest.ItemIds is null || manifest.ItemIds.Count == 0) errors.Add(new("manifest", "itemIds must list at least one item."));
        else
        {
            // Every item must be addressable through the API (events, GET /items/{id}), so its id follows the API's rules.
            var invalid = manifest.ItemIds.Select((id, i) => (Index: i, Problem: id is null ? "must not be null" : Limits.IdProblem(id))).FirstOrDefault(x => x.Problem is not null);
            if (invalid.Problem is not null) errors.Add(new("manifest", $"itemIds[{invalid.Index}] {invalid.Problem}."));
            var duplicate = manifest.ItemIds.GroupBy(id => id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null) errors.Add(new("manifest", $"itemIds lists '{duplicate.Key}' more than once."));
        }
        if (ItemRepresentations.UsesText(manifest.ItemRepresentation) && upload.TextProjection is null)
            errors.Add(new(TextProjectionPart, $"The manifest's item representation is '{manifest.ItemRepresentation}', which needs {ModelPackage.TextProjectionFile} (part '{TextProjectionPart}'): without it the version could not place items from their text."));
        if (upload.Embeddings.Length % sizeof(float) != 0)
            errors.Add(new("embeddings", $"{ModelPackage.EmbeddingsFile} has {upload.Embeddings.Length} bytes, not a whole number of float32 values."));
        if (errors.Count > 0) return (null, errors);

        var embeddings = MemoryMarshal.Cast<byte, float>(upload.Embeddings).ToArray();
        ModelPackage package;
        try
        {
            package = new ModelPackage(manifest, upload.Encoder, embeddings, upload.TextProjection);
        }
        catch (InvalidDataException e)
        {
            var field = e.Message.Contains("embeddings", StringComparison.OrdinalIgnoreCase) ? "embeddings"
                : e.Message.Contains(ModelPackage.TextProjectionFile, StringComparison.Ordinal) ? TextProjectionPart
                : "manifest";
            return (null, [new(field, e.Message)]);
        }
        var bad = Array.FindIndex(embeddings, x => !float.IsFinite(x));
        if (bad >= 0) return (null, [new("embeddings", $"Value {bad} (item row {bad / manifest.Dimension}) is not a finite number.")]);
        for (var row = 0; row < manifest.ItemCount; row++)
        {
            var norm = Limits.VectorNorm(package.ItemVector(row + 1));
            if (norm > Limits.MaxVectorNorm)
                return (null, [new("embeddings", $"Item row {row} ('{package.Manifest.ItemIds[row]}') has norm {norm:G3}, above the limit of {Limits.MaxVectorNorm:G}: scores could overflow.")]);
        }

        try
        {
            using var encoder = new OnnxEncoder(package, new OnnxThreading(1, false));
            // A full window of the first items, one of the last (an encoder with fewer items than the manifest fails
            // here, not on the first user who has one of them) and a single item.
            var length = Math.Min(manifest.ItemCount, manifest.MaxLength);
            int[][] probes = [Enumerable.Range(1, length).ToArray(), Enumerable.Range(manifest.ItemCount - length + 1, length).ToArray(), [1]];
            var vector = encoder.Encode(probes);
            if (vector.Length != probes.Length * manifest.Dimension)
                return (null, [new("encoder", $"The encoder produced {vector.Length / probes.Length} values per history; the manifest's dimension is {manifest.Dimension}.")]);
            if (!vector.All(float.IsFinite))
                return (null, [new("encoder", "The encoder produced non-finite values for a probe history.")]);
        }
        catch (Exception e) when (e is InvalidDataException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException or ArgumentException)
        {
            return (null, [new("encoder", $"{ModelPackage.EncoderFile} does not load or does not meet the contract (int64 '{ModelPackage.EncoderInput}' [batch, {manifest.MaxLength}] → float32 '{ModelPackage.EncoderOutput}' [batch, {manifest.Dimension}]): {e.Message}")]);
        }
        return package.HasTextProjection && ValidateProjection(package) is { } error ? (null, [error]) : (package, []);
    }

    /// <summary>The upload part (and error field) that carries text_projection.onnx.</summary>
    public const string TextProjectionPart = "text_projection";

    private static UploadError? ValidateProjection(ModelPackage package)
    {
        var manifest = package.Manifest;
        if (manifest.TextEncoder != SentenceTextEncoder.ModelName || manifest.TextDimension != SentenceTextEncoder.Dimension)
            return new(TextProjectionPart, $"The projection reads '{manifest.TextEncoder}' vectors of width {manifest.TextDimension}; this cluster encodes item texts with "
                + $"{SentenceTextEncoder.ModelName} ({SentenceTextEncoder.Dimension} values), so it could not place new items with it.");
        try
        {
            using var session = new TextProjectionSession(package, new OnnxThreading(1, false));
            // Two probes: a unit vector and the zero vector, both of which real text vectors lie near.
            var probe = new float[2 * manifest.TextDimension];
            probe[0] = 1;
            var vectors = session.Project(probe, 2);
            if (vectors.Length != 2 * manifest.Dimension)
                return new(TextProjectionPart, $"The projection produced {vectors.Length / 2} values per item; the manifest's dimension is {manifest.Dimension}.");
            if (!vectors.All(float.IsFinite))
                return new(TextProjectionPart, "The projection produced non-finite values for a probe text vector.");
        }
        catch (Exception e) when (e is InvalidDataException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException or ArgumentException)
        {
            return new(TextProjectionPart, $"{ModelPackage.TextProjectionFile} does not load or does not meet the contract (float32 'text_vector' [batch, {manifest.TextDimension}] "
                + $"→ float32 'item_vector' [batch, {manifest.Dimension}]): {e.Message}");
        }
        return null;
    }
}

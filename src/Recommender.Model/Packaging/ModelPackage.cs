using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Recommender.Model.Packaging;

/// <summary>
/// A versioned, self-contained model: the manifest, the ONNX encoder (item-id sequence → interest vector)
/// and the item embedding table used to score candidates.
/// </summary>
/// <remarks>
/// Encoder contract: input <c>item_ids</c> int64 [batch, MaxLength], dense ids left-padded with 0;
/// output <c>user_vector</c> float32 [batch, Dimension]. Embedding row i belongs to dense item i + 1.
/// Optional text projection (text_projection.onnx): input <c>text_vector</c> float32 [batch, TextDimension],
/// output <c>item_vector</c> float32 [batch, Dimension]; present only when the manifest's ItemRepresentation uses text.
/// </remarks>
public sealed partial class ModelPackage
{
    public const string ManifestFile = "manifest.json";
    public const string EncoderFile = "encoder.onnx";
    public const string EmbeddingsFile = "item_embeddings.bin";
    public const string EncoderInput = "item_ids";
    public const string EncoderOutput = "user_vector";

    /// <summary>Optional: maps a frozen text vector to an item vector, so items without interactions can be scored.</summary>
    public const string TextProjectionFile = "text_projection.onnx";

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public ModelPackage(ModelManifest manifest, byte[] encoderOnnx, float[] itemEmbeddings, byte[]? textProjectionOnnx = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(encoderOnnx);
        ArgumentNullException.ThrowIfNull(itemEmbeddings);
        if (ManifestProblem(manifest) is { } problem) throw new InvalidDataException(problem);
        if (manifest.Version is null)
            throw new InvalidDataException("The manifest has no version.");
        if (!IsValidVersion(manifest.Version))
            throw new InvalidDataException($"Model version '{manifest.Version}' must be 1-100 characters of letters, digits, '.', '_' or '-', starting with a letter or digit.");
        if (string.IsNullOrWhiteSpace(manifest.Kind))
            throw new InvalidDataException("The manifest has no kind.");
        if (manifest.Format != ModelManifest.CurrentFormat)
            throw new InvalidDataException($"Model package format {manifest.Format} is not supported (expected {ModelManifest.CurrentFormat}).");
        if (manifest.Dimension <= 0 || manifest.MaxLength <= 0)
            throw new InvalidDataException("Model dimension and max length must be positive.");
        if (manifest.MaxLength > ModelLimits.MaxSequenceLength)
            throw new InvalidDataException($"The manifest's maxLength {manifest.MaxLength:N0} is above the limit of {ModelLimits.MaxSequenceLength:N0}.");
        if (manifest.Dimension > ModelLimits.MaxDimension)
            throw new InvalidDataException($"The manifest's dimension {manifest.Dimension:N0} is above the limit of {ModelLimits.MaxDimension:N0}.");
        if (manifest.Similarity is not (SimilarityKinds.Dot or SimilarityKinds.Cosine))
            throw new InvalidDataException($"Unknown similarity '{manifest.Similarity}'.");
        if (itemEmbeddings.Length != (long)manifest.ItemCount * manifest.Dimension)
            throw new InvalidDataException($"Item embeddings hold {itemEmbeddings.Length} floats; the manifest needs {manifest.ItemCount} x {manifest.Dimension}.");
        if (manifest.Metrics?.FirstOrDefault(m => !double.IsFinite(m.Value)) is { Key: not null } metric)
            throw new InvalidDataException($"Metric '{metric.Key}' is {metric.Value}, not a finite number.");
        CheckText(manifest, textProjectionOnnx);
        Manifest = manifest;
        EncoderOnnx = encoderOnnx;
        ItemEmbeddings = itemEmbeddings;
        TextProjectionOnnx = textProjectionOnnx;
    }

    public ModelManifest Manifest { get; }

    public byte[] EncoderOnnx { get; }

    /// <summary>Row-major [ItemCount, Dimension].</summary>
    public float[] ItemEmbeddings { get; }

    /// <summary>The text_projection.onnx bytes, or null when the package has none.</summary>
    public byte[]? TextProjectionOnnx { get; }

    public bool HasTextProjection => TextProjectionOnnx is not null;

    public ReadOnlySpan<float> ItemVector(int denseId) =>
        ItemEmbeddings.AsSpan((denseId - 1) * Manifest.Dimension, Manifest.Dimension);

    /// <summary>Writes the package into <paramref name="directory"/> (created if missing).</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        WriteFile(Path.Combine(directory, ManifestFile), JsonSerializer.SerializeToUtf8Bytes(Manifest, JsonOptions));
        WriteFile(Path.Combine(directory, EncoderFile), EncoderOnnx);
        WriteFile(Path.Combine(directory, EmbeddingsFile), MemoryMarshal.AsBytes(ItemEmbeddings.AsSpan()));
        var projectionPath = Path.Combine(directory, TextProjectionFile);
        if (TextProjectionOnnx is not null) WriteFile(projectionPath, TextProjectionOnnx);
        // Saving over an older package must not leave a projection that no longer belongs to it.
        else if (File.Exists(projectionPath)) File.Delete(projectionPath);
    }

    /// <summary>
    /// Writes a file without reserving its size first, as File.WriteAllBytes does: a reservation the disk cannot meet is
    /// reported without the system's error code, a write with it (ENOSPC in <see cref="Exception.HResult"/>), which a
    /// host can tell from other failures.
    /// </summary>
    private static void WriteFile(string path, ReadOnlySpan<byte> contents)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        file.Write(contents);
    }

    /// <summary>Path of the text projection inside a package directory (the file may be absent).</summary>
    public static string TextProjectionPath(string directory) => Path.Combine(directory, TextProjectionFile);

    /// <summary>Reads a package written by <see cref="Save"/>; a missing or inconsistent file is an error naming it.</summary>
    /// <exception cref="InvalidDataException">A file is malformed or the files disagree; the message names the file or the package.</exception>
    public static ModelPackage Load(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Model package directory '{directory}' does not exist.");
        var manifestPath = Path.Combine(directory, ManifestFile);
        if (!File.Exists(manifestPath)) throw new FileNotFoundException($"'{manifestPath}' is missing.", manifestPath);
        var manifest = ReadManifest(manifestPath);
        var encoderPath = Path.Combine(directory, EncoderFile);
        if (!File.Exists(encoderPath)) throw new FileNotFoundException($"'{encoderPath}' is missing.", encoderPath);
        var embeddingsPath = Path.Combine(directory, EmbeddingsFile);
        if (!File.Exists(embeddingsPath)) throw new FileNotFoundException($"'{embeddingsPath}' is missing.", embeddingsPath);
        var bytes = File.ReadAllBytes(embeddingsPath);
        if (bytes.Length % sizeof(float) != 0) throw new InvalidDataException($"'{embeddingsPath}' is not a whole number of float32 values.");
        var embeddings = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        var projectionPath = TextProjectionPath(directory);
        var projection = File.Exists(projectionPath) ? File.ReadAllBytes(projectionPath) : null;
        try
        {
            return new ModelPackage(manifest, File.ReadAllBytes(encoderPath), embeddings, projection);
        }
        catch (InvalidDataException e)
        {
            // The constructor knows what is inconsistent; only the caller knows where the package is.
            throw new InvalidDataException($"Model package '{directory}': {e.Message}", e);
        }
    }

    /// <summary>The manifest, or an InvalidDataException naming the file and what is wrong with it.</summary>
    private static ModelManifest ReadManifest(string path)
    {
        var json = File.ReadAllText(path);
        if (string.IsNullOrWhiteSpace(json)) throw new InvalidDataException($"'{path}' is empty.");
        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ModelManifest>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            // Malformed JSON, a wrong type, or required fields missing (as in "{}").
            throw new InvalidDataException($"'{path}' is not a valid model manifest: {e.Message}", e);
        }
        if (manifest is null) throw new InvalidDataException($"'{path}' holds null, not a manifest object.");
        if (ManifestProblem(manifest) is { } problem) throw new InvalidDataException($"'{path}': {problem}");
        return manifest;
    }

    /// <summary>What JSON can leave null in a manifest although its properties are not nullable.</summary>
    private static string? ManifestProblem(ModelManifest manifest)
    {
        if (manifest.ItemIds is null) return "itemIds is missing or null; it must list the external id of every item.";
        for (var i = 0; i < manifest.ItemIds.Count; i++)
            if (manifest.ItemIds[i] is null) return $"itemIds[{i}] is null.";
        return null;
    }

    /// <summary>The text fields must agree with each other and with the presence of a projection.</summary>
    private static void CheckText(ModelManifest manifest, byte[]? textProjectionOnnx)
    {
        var representation = manifest.ItemRepresentation;
        if (!ItemRepresentations.All.Contains(representation))
            throw new InvalidDataException($"Unknown item representation '{representation}' (expected one of {string.Join(", ", ItemRepresentations.All)}).");
        if (manifest.TextDimension < 0)
            throw new InvalidDataException($"Text dimension {manifest.TextDimension} is negative.");
        if (ItemRepresentations.UsesText(representation))
        {
            if (manifest.TextDimension == 0)
                throw new InvalidDataException($"Item representation '{representation}' needs a positive text dimension.");
            if (string.IsNullOrWhiteSpace(manifest.TextEncoder))
                throw new InvalidDataException($"Item representation '{representation}' needs the name of its text encoder.");
        }
        if (textProjectionOnnx is null) return;
        if (!ItemRepresentations.UsesText(representation))
            throw new InvalidDataException($"{TextProjectionFile} is present but the item representation is '{representation}', which uses no text.");
        if (textProjectionOnnx.Length == 0)
            throw new InvalidDataException($"{TextProjectionFile} is empty.");
    }

    /// <summary>
    /// A version names a directory, so it is a safe file name: letters, digits, '.', '_' and '-', starting with a letter
    /// or digit (never "." or "..").
    /// </summary>
    public static bool IsValidVersion(string? version) => version is not null && VersionPattern().IsMatch(version);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex VersionPattern();
}

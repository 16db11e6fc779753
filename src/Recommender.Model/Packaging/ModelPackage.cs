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
/// </remarks>
public sealed partial class ModelPackage
{
    public const string ManifestFile = "manifest.json";
    public const string EncoderFile = "encoder.onnx";
    public const string EmbeddingsFile = "item_embeddings.bin";
    public const string EncoderInput = "item_ids";
    public const string EncoderOutput = "user_vector";

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public ModelPackage(ModelManifest manifest, byte[] encoderOnnx, float[] itemEmbeddings)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(encoderOnnx);
        ArgumentNullException.ThrowIfNull(itemEmbeddings);
        if (!VersionPattern().IsMatch(manifest.Version))
            throw new InvalidDataException($"Model version '{manifest.Version}' must be 1-100 characters of letters, digits, '.', '_' or '-'.");
        if (manifest.Format != ModelManifest.CurrentFormat)
            throw new InvalidDataException($"Model package format {manifest.Format} is not supported (expected {ModelManifest.CurrentFormat}).");
        if (manifest.Dimension <= 0 || manifest.MaxLength <= 0)
            throw new InvalidDataException("Model dimension and max length must be positive.");
        if (manifest.Similarity is not (SimilarityKinds.Dot or SimilarityKinds.Cosine))
            throw new InvalidDataException($"Unknown similarity '{manifest.Similarity}'.");
        if (itemEmbeddings.Length != (long)manifest.ItemCount * manifest.Dimension)
            throw new InvalidDataException($"Item embeddings hold {itemEmbeddings.Length} floats; the manifest needs {manifest.ItemCount} x {manifest.Dimension}.");
        Manifest = manifest;
        EncoderOnnx = encoderOnnx;
        ItemEmbeddings = itemEmbeddings;
    }

    public ModelManifest Manifest { get; }

    public byte[] EncoderOnnx { get; }

    /// <summary>Row-major [ItemCount, Dimension].</summary>
    public float[] ItemEmbeddings { get; }

    public ReadOnlySpan<float> ItemVector(int denseId) =>
        ItemEmbeddings.AsSpan((denseId - 1) * Manifest.Dimension, Manifest.Dimension);

    /// <summary>Writes the package into <paramref name="directory"/> (created if missing).</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, ManifestFile), JsonSerializer.Serialize(Manifest, JsonOptions));
        File.WriteAllBytes(Path.Combine(directory, EncoderFile), EncoderOnnx);
        File.WriteAllBytes(Path.Combine(directory, EmbeddingsFile), MemoryMarshal.AsBytes(ItemEmbeddings.AsSpan()).ToArray());
    }

    /// <summary>Reads a package written by <see cref="Save"/>; a missing or inconsistent file is an error naming it.</summary>
    public static ModelPackage Load(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Model package directory '{directory}' does not exist.");
        var manifestPath = Path.Combine(directory, ManifestFile);
        if (!File.Exists(manifestPath)) throw new FileNotFoundException($"'{manifestPath}' is missing.", manifestPath);
        var manifest = JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(manifestPath), JsonOptions)
            ?? throw new InvalidDataException($"'{manifestPath}' is empty.");
        var encoderPath = Path.Combine(directory, EncoderFile);
        if (!File.Exists(encoderPath)) throw new FileNotFoundException($"'{encoderPath}' is missing.", encoderPath);
        var embeddingsPath = Path.Combine(directory, EmbeddingsFile);
        if (!File.Exists(embeddingsPath)) throw new FileNotFoundException($"'{embeddingsPath}' is missing.", embeddingsPath);
        var bytes = File.ReadAllBytes(embeddingsPath);
        if (bytes.Length % sizeof(float) != 0) throw new InvalidDataException($"'{embeddingsPath}' is not a whole number of float32 values.");
        var embeddings = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        return new ModelPackage(manifest, File.ReadAllBytes(encoderPath), embeddings);
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex VersionPattern();
}

using Microsoft.ML.OnnxRuntime;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;

namespace Recommender.Model.Text;

/// <summary>
/// Runs a package's text_projection.onnx: frozen text vectors in, item vectors in the model's scoring space out.
/// This is how an item that was never trained on (no interactions) gets a vector. Thread-safe.
/// </summary>
public sealed class TextProjectionSession : IDisposable
{
    private static readonly string[] InputNames = [TextProjectionGraph.Input];
    private static readonly string[] OutputNames = [TextProjectionGraph.Output];

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();

    /// <summary>Loads the projection of the package in <paramref name="packageDirectory"/> (manifest.json + text_projection.onnx).</summary>
    public TextProjectionSession(string packageDirectory, OnnxThreading? threading = null)
        : this(LoadFromDirectory(packageDirectory), threading)
    {
    }

    /// <summary>Loads the projection carried by <paramref name="package"/>.</summary>
    /// <exception cref="InvalidOperationException">The package has no text projection.</exception>
    public TextProjectionSession(ModelPackage package, OnnxThreading? threading = null)
        : this(RequireProjection(package), package.Manifest.TextDimension, package.Manifest.Dimension, threading)
    {
    }

    /// <summary>Loads a projection graph from its bytes and checks it maps [batch, <paramref name="textDimension"/>] to [batch, <paramref name="dimension"/>].</summary>
    public TextProjectionSession(byte[] projectionOnnx, int textDimension, int dimension, OnnxThreading? threading = null)
    {
        ArgumentNullException.ThrowIfNull(projectionOnnx);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(textDimension);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        threading ??= new OnnxThreading();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threading.IntraOpThreads);
        TextDimension = textDimension;
        Dimension = dimension;
        using var options = threading.CreateSessionOptions();
        try
        {
            _session = new InferenceSession(projectionOnnx, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{ModelPackage.TextProjectionFile} does not load: {e.Message}", e);
        }
        CheckSignature();
    }

    /// <summary>Width of the frozen text vectors the projection reads.</summary>
    public int TextDimension { get; }

    /// <summary>Width of the item vectors it produces (the model's scoring dimension).</summary>
    public int Dimension { get; }

    /// <summary>Projects <paramref name="count"/> row-major text vectors [count, TextDimension] to item vectors [count, Dimension].</summary>
    /// <exception cref="ArgumentException">The span does not hold count × TextDimension values.</exception>
    public float[] Project(ReadOnlySpan<float> textVectors, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (textVectors.Length != (long)count * TextDimension)
            throw new ArgumentException($"Text vectors hold {textVectors.Length} floats; {count} vectors of dimension {TextDimension} need {(long)count * TextDimension}.", nameof(textVectors));
        var result = new float[count * Dimension];
        if (count == 0) return result;
        var input = textVectors.ToArray();
        using (var inputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input.AsMemory(), [count, TextDimension]))
        using (var outputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, result.AsMemory(), [count, Dimension]))
            _session.Run(_runOptions, InputNames, [inputValue], OutputNames, [outputValue]);
        return result;
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }

    private static ModelPackage LoadFromDirectory(string packageDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(packageDirectory);
        var package = ModelPackage.Load(packageDirectory);
        if (!package.HasTextProjection)
            throw new FileNotFoundException($"Model package '{packageDirectory}' has no {ModelPackage.TextProjectionFile}.", Path.Combine(packageDirectory, ModelPackage.TextProjectionFile));
        return package;
    }

    private static byte[] RequireProjection(ModelPackage package)
    {
        ArgumentNullException.ThrowIfNull(package);
        return package.TextProjectionOnnx
            ?? throw new InvalidOperationException($"Model '{package.Manifest.Version}' has no {ModelPackage.TextProjectionFile} (item representation '{package.Manifest.ItemRepresentation}').");
    }

    private void CheckSignature()
    {
        if (!_session.InputMetadata.TryGetValue(TextProjectionGraph.Input, out var input) || input.ElementType != typeof(float))
            throw new InvalidDataException($"{ModelPackage.TextProjectionFile} has no float32 input '{TextProjectionGraph.Input}'.");
        if (!_session.OutputMetadata.TryGetValue(TextProjectionGraph.Output, out var output) || output.ElementType != typeof(float))
            throw new InvalidDataException($"{ModelPackage.TextProjectionFile} has no float32 output '{TextProjectionGraph.Output}'.");
        var inDims = input.Dimensions;
        if (inDims.Length != 2 || (inDims[1] > 0 && inDims[1] != TextDimension))
            throw new InvalidDataException($"{ModelPackage.TextProjectionFile} input '{TextProjectionGraph.Input}' has shape [{string.Join(", ", inDims)}]; the manifest says [batch, {TextDimension}].");
        var outDims = output.Dimensions;
        if (outDims.Length != 2 || (outDims[1] > 0 && outDims[1] != Dimension))
            throw new InvalidDataException($"{ModelPackage.TextProjectionFile} output '{TextProjectionGraph.Output}' has shape [{string.Join(", ", outDims)}]; the manifest says [batch, {Dimension}].");
    }
}

using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Recommender.Model.Nn;

namespace Recommender.Model.Sasrec;

/// <summary>
/// SASRec: a causal transformer over a user's item sequence whose last hidden state is the user's interest
/// vector; an item's score is the dot product with its (input) embedding, or with its row of out_emb when the
/// configuration asks for a separate output table. Parameter names, shapes and the
/// forward pass follow the shared SASRec contract so that the ONNX export reproduces <see cref="Encode"/>.
/// </summary>
public sealed class SasRecModel
{
    private const string Magic = "SASREC-CHECKPOINT-1";

    private readonly Dictionary<string, Parameter> _byName;
    private readonly ConcurrentBag<SequencePass> _passes = [];
    private readonly float[]?[] _transposed;

    /// <summary>A freshly initialised model: Xavier-normal (or N(0, InitStd²)) matrices and embeddings, unit layer-norm gains, zero biases; the padding row is zero.</summary>
    public SasRecModel(SasRecConfig config, int seed) : this(config, seed, null)
    {
    }

    /// <summary>
    /// A freshly initialised model that reads item text: <paramref name="itemText"/> holds the frozen text vectors of
    /// dense items 1..N, row-major [N, TextDimension] (a zero row for an item without text). Required exactly when
    /// the configuration's item representation uses text.
    /// </summary>
    public SasRecModel(SasRecConfig config, int seed, float[]? itemText) : this(config)
    {
        if ((Representation is null) != (itemText is null))
            throw new ArgumentException(Representation is null
                ? $"Item representation '{config.ItemRepresentation}' takes no text vectors."
                : $"Item representation '{config.ItemRepresentation}' needs the items' text vectors.", nameof(itemText));
        var rng = SplitMix.For(seed, 0x5A5EC);
        foreach (var parameter in Parameters)
        {
            if (parameter.Name.EndsWith(".bias", StringComparison.Ordinal)) continue;
            if (parameter.Shape.Length == 1)
            {
                Array.Fill(parameter.Data, 1f);
                continue;
            }
            var std = config.InitStd > 0 ? config.InitStd : Math.Sqrt(2.0 / (parameter.Shape[0] + parameter.Shape[1]));
            for (var i = 0; i < parameter.Data.Length; i++) parameter.Data[i] = (float)(rng.NextGaussian() * std);
        }
        Array.Clear(ItemEmbedding.Data, 0, config.Dimension);
        Array.Clear(OutputEmbedding.Data, 0, config.Dimension);
        // A recency slope starts at 0: attention begins as plain SASRec's and learns how much to favour recent items.
        foreach (var block in Blocks) if (block.Recency is { } recency) Array.Clear(recency.Data);
        Representation?.Initialise(itemText);
    }

    private SasRecModel(SasRecConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        int n = config.ItemCount, d = config.Dimension, f = config.FeedForwardDimension, f1 = config.FeedForwardInputWidth, l = config.MaxLength;
        var list = new List<Parameter>();
        Parameter Add(string name, params int[] shape)
        {
            var p = new Parameter(name, shape) { Index = list.Count };
            list.Add(p);
            return p;
        }
        ItemEmbedding = Add("item_emb", n + 1, d);
        PositionEmbedding = Add("pos_emb", l, d);
        Blocks = new BlockParameters[config.Blocks];
        for (var b = 0; b < config.Blocks; b++)
        {
            var prefix = $"blocks.{b}.";
            Blocks[b] = new BlockParameters(
                Add(prefix + "ln1.weight", d), Add(prefix + "ln1.bias", d),
                Add(prefix + "attn.q.weight", d, d), Add(prefix + "attn.q.bias", d),
                Add(prefix + "attn.k.weight", d, d), Add(prefix + "attn.k.bias", d),
                Add(prefix + "attn.v.weight", d, d), Add(prefix + "attn.v.bias", d),
                Add(prefix + "attn.out.weight", d, d), Add(prefix + "attn.out.bias", d),
                Add(prefix + "ln2.weight", d), Add(prefix + "ln2.bias", d),
                Add(prefix + "ffn.fc1.weight", d, f1), Add(prefix + "ffn.fc1.bias", f1),
                Add(prefix + "ffn.fc2.weight", f, d), Add(prefix + "ffn.fc2.bias", d));
        }
        FinalNormWeight = Add("final_ln.weight", d);
        FinalNormBias = Add("final_ln.bias", d);
        // Added last, so that a tied model's parameters (and their seeded initialisation) are unchanged.
        OutputEmbedding = config.SeparateOutputEmbedding ? Add("out_emb", n + 1, d) : ItemEmbedding;
        if (config.RecencyBias)
            for (var b = 0; b < config.Blocks; b++) Blocks[b].Recency = Add($"blocks.{b}.attn.recency", config.Heads);
        if (config.GatedResidual)
            for (var b = 0; b < config.Blocks; b++)
                Blocks[b].Gates = new GateParameters(
                    Add($"blocks.{b}.gate1.weight", d, d), Add($"blocks.{b}.gate1.bias", d),
                    Add($"blocks.{b}.gate2.weight", d, d), Add($"blocks.{b}.gate2.bias", d));
        if (Packaging.ItemRepresentations.UsesText(config.ItemRepresentation))
            Representation = new ItemRepresentation(config, ItemEmbedding, Add);
        Parameters = list;
        _byName = list.ToDictionary(p => p.Name, StringComparer.Ordinal);
        _transposed = new float[list.Count][];
    }

    public SasRecConfig Config { get; }

    public IReadOnlyList<Parameter> Parameters { get; }

    internal Parameter ItemEmbedding { get; }

    /// <summary>The table items are scored with: out_emb with a separate output embedding, otherwise item_emb itself.</summary>
    internal Parameter OutputEmbedding { get; }

    internal Parameter PositionEmbedding { get; }

    internal BlockParameters[] Blocks { get; }

    internal Parameter FinalNormWeight { get; }

    internal Parameter FinalNormBias { get; }

    /// <summary>How item_emb is built from item ids and text; null when it is a plain learned table ("id").</summary>
    internal ItemRepresentation? Representation { get; }

    /// <summary>
    /// The item vectors that <paramref name="count"/> frozen text vectors ([count, TextDimension], row-major) give by
    /// themselves: text · text_proj.weight + text_proj.bias, row-major [count, D]. This is how an item that was never
    /// trained on is scored.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model reads no item text.</exception>
    public float[] ProjectText(ReadOnlySpan<float> textVectors, int count) =>
        (Representation ?? throw new InvalidOperationException($"Item representation '{Config.ItemRepresentation}' has no text projection.")).Project(textVectors, count);

    public Parameter Get(string name) =>
        _byName.TryGetValue(name, out var parameter) ? parameter : throw new KeyNotFoundException($"The model has no parameter named '{name}'.");

    /// <summary>
    /// The scoring table: output embedding rows 1..N as one row-major [N, D] array (row i = dense item i + 1), each row
    /// L2-normalised when the model scores by cosine, so that a dot product with <see cref="Encode"/>'s vector is the score.
    /// </summary>
    public float[] ItemEmbeddings()
    {
        var table = OutputEmbedding.Data.AsSpan(Config.Dimension).ToArray();
        if (Config.ScoresByCosine) CosineScores.NormaliseRows(table, Config.Dimension, 1f);
        return table;
    }

    /// <summary>
    /// Eval-mode forward: for each chronological history keeps the most recent MaxLength ids and returns the final
    /// hidden state at the last position, row-major [histories.Count, D], L2-normalised and divided by the temperature
    /// when the model scores by cosine. An empty history gives a zero row.
    /// </summary>
    public float[] Encode(IReadOnlyList<int[]> histories)
    {
        ArgumentNullException.ThrowIfNull(histories);
        var d = Config.Dimension;
        for (var h = 0; h < histories.Count; h++)
        {
            var history = histories[h] ?? throw new ArgumentException($"History {h} is null.", nameof(histories));
            foreach (var id in history)
                if (id < 1 || id > Config.ItemCount)
                    throw new ArgumentException($"History {h} holds item {id}, outside 1..{Config.ItemCount}.", nameof(histories));
        }
        var result = new float[histories.Count * d];
        var workers = Math.Max(1, Math.Min(Environment.ProcessorCount, histories.Count));
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            var pass = RentPass();
            var rng = default(SplitMix);
            for (var h = w; h < histories.Count; h += workers)
            {
                var history = histories[h];
                if (history.Length == 0) continue;
                var window = history.AsSpan(Math.Max(0, history.Length - Config.MaxLength));
                pass.Forward(this, window, training: false, ref rng);
                pass.Output.Slice((window.Length - 1) * d, d).CopyTo(result.AsSpan(h * d, d));
            }
            _passes.Add(pass);
        });
        if (Config.ScoresByCosine) CosineScores.NormaliseRows(result, d, 1f / Config.Temperature);
        return result;
    }

    private SequencePass RentPass() => _passes.TryTake(out var pass) ? pass : new SequencePass(Config);

    /// <summary>W laid out [out, in] for the input gradient of a linear layer; valid after <see cref="RefreshTransposes"/>.</summary>
    internal float[] Transposed(Parameter weight) =>
        _transposed[weight.Index] ?? throw new InvalidOperationException($"No transpose prepared for '{weight.Name}'.");

    /// <summary>Re-derives the transposed linear weights after the parameters changed (once per optimiser step).</summary>
    internal void RefreshTransposes()
    {
        Representation?.Materialise();
        foreach (var block in Blocks)
            foreach (var w in block.LinearWeights)
            {
                var t = _transposed[w.Index] ??= new float[w.Data.Length];
                Linear.Transpose(w.Data, w.Shape[0], w.Shape[1], t);
            }
    }

    /// <summary>Writes the configuration and every parameter (atomically: a temporary file is moved into place).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = path + ".tmp";
        using (var stream = File.Create(temporary))
        using (var writer = new BinaryWriter(stream, Encoding.UTF8))
        {
            writer.Write(Magic);
            writer.Write(JsonSerializer.Serialize(Config));
            writer.Write(Parameters.Count);
            foreach (var p in Parameters)
            {
                writer.Write(p.Name);
                writer.Write(p.Shape.Length);
                foreach (var size in p.Shape) writer.Write(size);
                writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(p.Data.AsSpan()));
            }
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a checkpoint written by <see cref="Save"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a checkpoint, is truncated, or holds a configuration or parameters that do not fit; the message names it.</exception>
    public static SasRecModel Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Model checkpoint '{path}' does not exist.", path);
        try
        {
            return Read(path);
        }
        // What a damaged file raises inside the reader, turned into one error type that names the file.
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"'{path}' is truncated: it ends before the checkpoint does.", e);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' holds a model configuration that cannot be read: {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{path}' holds an invalid model configuration: {e.Message}", e);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"'{path}' is damaged: {e.Message}", e);
        }
    }

    private static SasRecModel Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        string magic;
        try { magic = reader.ReadString(); }
        catch (Exception e) when (e is EndOfStreamException or IOException) { throw new InvalidDataException($"'{path}' is not a SASRec checkpoint.", e); }
        if (magic != Magic) throw new InvalidDataException($"'{path}' is not a SASRec checkpoint.");
        var config = JsonSerializer.Deserialize<SasRecConfig>(reader.ReadString())
            ?? throw new InvalidDataException($"'{path}' has no model configuration.");
        var model = new SasRecModel(config);
        var count = reader.ReadInt32();
        if (count != model.Parameters.Count) throw new InvalidDataException($"'{path}' holds {count} parameters; the configuration needs {model.Parameters.Count}.");
        for (var i = 0; i < count; i++)
        {
            var name = reader.ReadString();
            var parameter = model._byName.TryGetValue(name, out var p) ? p : throw new InvalidDataException($"'{path}' holds unknown parameter '{name}'.");
            // The rank is checked before it sizes an array, so a damaged count cannot ask for gigabytes.
            var rank = reader.ReadInt32();
            if (rank != parameter.Shape.Length) throw new InvalidDataException($"'{path}': parameter '{name}' has {rank} dimensions, expected {parameter.Shape.Length}.");
            var shape = new int[rank];
            for (var s = 0; s < shape.Length; s++) shape[s] = reader.ReadInt32();
            if (!parameter.Shape.SequenceEqual(shape)) throw new InvalidDataException($"'{path}': parameter '{name}' has shape [{string.Join(",", shape)}], expected [{string.Join(",", parameter.Shape)}].");
            reader.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(parameter.Data.AsSpan()));
        }
        model.Representation?.Materialise();
        return model;
    }

    internal sealed record BlockParameters(
        Parameter Norm1Weight, Parameter Norm1Bias,
        Parameter QueryWeight, Parameter QueryBias,
        Parameter KeyWeight, Parameter KeyBias,
        Parameter ValueWeight, Parameter ValueBias,
        Parameter OutWeight, Parameter OutBias,
        Parameter Norm2Weight, Parameter Norm2Bias,
        Parameter Fc1Weight, Parameter Fc1Bias,
        Parameter Fc2Weight, Parameter Fc2Bias)
    {
        public IEnumerable<Parameter> LinearWeights =>
            Gates is { } g ? [QueryWeight, KeyWeight, ValueWeight, OutWeight, Fc1Weight, Fc2Weight, g.Gate1Weight, g.Gate2Weight]
                : [QueryWeight, KeyWeight, ValueWeight, OutWeight, Fc1Weight, Fc2Weight];

        /// <summary>Per-head recency slopes [Heads] with <see cref="SasRecConfig.RecencyBias"/>; null otherwise.</summary>
        public Parameter? Recency { get; set; }

        /// <summary>The residual gates with <see cref="SasRecConfig.GatedResidual"/>; null otherwise.</summary>
        public GateParameters? Gates { get; set; }
    }

    /// <summary>The gate of the attention branch (1) and of the feed-forward branch (2): σ(stream·W + b).</summary>
    internal sealed record GateParameters(Parameter Gate1Weight, Parameter Gate1Bias, Parameter Gate2Weight, Parameter Gate2Bias);
}

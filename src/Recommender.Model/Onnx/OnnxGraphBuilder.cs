using Google.Protobuf;
using Onnx;

namespace Recommender.Model.Onnx;

/// <summary>One axis of a graph input or output: a fixed size or a named symbolic size such as "batch".</summary>
public readonly record struct OnnxDim(long Value, string? Name)
{
    public static implicit operator OnnxDim(long value) => new(value, null);

    public static implicit operator OnnxDim(string name) => new(0, name);
}

/// <summary>
/// Builds an ONNX model (default domain, opset 17) out of the protobuf types: initializers, nodes, and typed
/// graph inputs and outputs. Node outputs get unique generated names unless a name is given.
/// </summary>
public sealed class OnnxGraphBuilder(string graphName)
{
    public const int Opset = 17;

    /// <summary>IR version 8 is the one that goes with opset 17.</summary>
    private const long IrVersion = 8;

    private readonly GraphProto _graph = new() { Name = graphName };
    private readonly HashSet<string> _names = [];
    private int _counter;

    public string AddInitializer(string name, ReadOnlySpan<float> data, params long[] dims)
    {
        Claim(name);
        CheckLength(name, data.Length, dims);
        var tensor = NewTensor(name, TensorProto.Types.DataType.Float, dims);
        tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data));
        _graph.Initializer.Add(tensor);
        return name;
    }

    public string AddInitializer(string name, ReadOnlySpan<long> data, params long[] dims)
    {
        Claim(name);
        CheckLength(name, data.Length, dims);
        var tensor = NewTensor(name, TensorProto.Types.DataType.Int64, dims);
        tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data));
        _graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>A float scalar constant (rank 0).</summary>
    public string Scalar(string name, float value) => AddInitializer(name, [value]);

    /// <summary>A 1-D int64 constant, e.g. axes or a target shape.</summary>
    public string Int64s(string name, params long[] values) => AddInitializer(name, values, values.Length);

    public void AddInput(string name, TensorProto.Types.DataType type, params OnnxDim[] dims)
    {
        Claim(name);
        _graph.Input.Add(ValueInfo(name, type, dims));
    }

    public void AddOutput(string name, TensorProto.Types.DataType type, params OnnxDim[] dims) =>
        _graph.Output.Add(ValueInfo(name, type, dims));

    /// <summary>Adds a node with one output, named <paramref name="output"/> or generated from the op type.</summary>
    public string Node(string opType, string[] inputs, string? output = null, params (string Name, object Value)[] attributes)
    {
        if (output is null) output = UniqueName(opType);
        else Claim(output);
        AddNode(opType, inputs, [output], attributes);
        return output;
    }

    /// <summary>Adds a node with several named outputs.</summary>
    public void NodeWithOutputs(string opType, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes)
    {
        foreach (var output in outputs) Claim(output);
        AddNode(opType, inputs, outputs, attributes);
    }

    private void AddNode(string opType, string[] inputs, string[] outputs, (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = $"{opType}_node_{_graph.Node.Count}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach (var (name, value) in attributes)
            node.Attribute.Add(Attribute(name, value));
        _graph.Node.Add(node);
    }

    private void Claim(string name)
    {
        if (!_names.Add(name)) throw new ArgumentException($"Graph value '{name}' is defined twice.", nameof(name));
    }

    public ModelProto ToModel() => new()
    {
        IrVersion = IrVersion,
        ProducerName = "Recommender",
        Graph = _graph,
        OpsetImport = { new OperatorSetIdProto { Domain = "", Version = Opset } },
    };

    public byte[] ToBytes() => ToModel().ToByteArray();

    private string UniqueName(string prefix)
    {
        string name;
        do name = $"{prefix}_{_counter++}";
        while (!_names.Add(name));
        return name;
    }

    private static TensorProto NewTensor(string name, TensorProto.Types.DataType type, long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    private static void CheckLength(string name, int length, long[] dims)
    {
        var expected = dims.Aggregate(1L, (a, b) => a * b);
        if (expected != length) throw new ArgumentException($"Initializer '{name}' has {length} values but its shape [{string.Join(", ", dims)}] needs {expected}.");
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, OnnxDim[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
            shape.Dim.Add(dim.Name is null
                ? new TensorShapeProto.Types.Dimension { DimValue = dim.Value }
                : new TensorShapeProto.Types.Dimension { DimParam = dim.Name });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    private static AttributeProto Attribute(string name, object value)
    {
        var attribute = new AttributeProto { Name = name };
        switch (value)
        {
            case int i: attribute.Type = AttributeProto.Types.AttributeType.Int; attribute.I = i; break;
            case long l: attribute.Type = AttributeProto.Types.AttributeType.Int; attribute.I = l; break;
            case float f: attribute.Type = AttributeProto.Types.AttributeType.Float; attribute.F = f; break;
            case string s: attribute.Type = AttributeProto.Types.AttributeType.String; attribute.S = ByteString.CopyFromUtf8(s); break;
            case long[] ls: attribute.Type = AttributeProto.Types.AttributeType.Ints; attribute.Ints.AddRange(ls); break;
            case int[] ints: attribute.Type = AttributeProto.Types.AttributeType.Ints; attribute.Ints.AddRange(ints.Select(x => (long)x)); break;
            case float[] fs: attribute.Type = AttributeProto.Types.AttributeType.Floats; attribute.Floats.AddRange(fs); break;
            default: throw new ArgumentException($"Attribute '{name}' has unsupported type {value.GetType().Name}.", nameof(value));
        }
        return attribute;
    }
}

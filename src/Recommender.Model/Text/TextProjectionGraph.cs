using Onnx;
using Recommender.Model.Onnx;

namespace Recommender.Model.Text;

/// <summary>
/// Builds text_projection.onnx: <c>text_vector</c> float32 [batch, TextDimension] → <c>item_vector</c> float32
/// [batch, Dimension] = text_vector · W + b, W stored [TextDimension, Dimension] row-major. Standard MatMul and Add, opset 17.
/// </summary>
public static class TextProjectionGraph
{
    public const string Input = "text_vector";
    public const string Output = "item_vector";

    public static byte[] Build(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int textDimension, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(textDimension);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        if (weight.Length != textDimension * dimension)
            throw new ArgumentException($"Projection weight has {weight.Length} values; [{textDimension}, {dimension}] needs {textDimension * dimension}.", nameof(weight));
        if (bias.Length != dimension)
            throw new ArgumentException($"Projection bias has {bias.Length} values; expected {dimension}.", nameof(bias));
        var g = new OnnxGraphBuilder("text_projection");
        g.AddInput(Input, TensorProto.Types.DataType.Float, "batch", textDimension);
        g.AddInitializer("projection.weight", weight, textDimension, dimension);
        g.AddInitializer("projection.bias", bias, dimension);
        var product = g.Node("MatMul", [Input, "projection.weight"]);
        g.Node("Add", [product, "projection.bias"], Output);
        g.AddOutput(Output, TensorProto.Types.DataType.Float, "batch", dimension);
        return g.ToBytes();
    }
}

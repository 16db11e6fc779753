using System.Text.Json.Nodes;
using Google.Protobuf;
using Onnx;
using Recommender.Model.Packaging;
using Recommender.Model.Sasrec;

namespace Recommender.Model.Onnx;

/// <summary>
/// Several SASRec models over the same catalogue as one serving package whose score is the sum of the members' scores:
/// the user vector is the members' user vectors side by side and an item's vector is its members' vectors side by side,
/// so one dot product adds up the members' dot products. Serving needs nothing new; averaging independently trained
/// models cancels part of each one's noise, which is worth more accuracy than one model's extra epochs.
/// </summary>
public static class SasRecEnsembleExporter
{
    public static ModelPackage Export(IReadOnlyList<SasRecModel> models, IReadOnlyList<string> itemIds, string version, JsonObject? training, IReadOnlyDictionary<string, double>? metrics)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(itemIds);
        if (models.Count == 0) throw new ArgumentException("An ensemble needs at least one model.", nameof(models));
        if (models.Count == 1) return SasRecExporter.Export(models[0], itemIds, version, training, metrics);
        var first = models[0].Config;
        for (var m = 0; m < models.Count; m++)
        {
            var c = models[m].Config;
            if (c.ItemCount != first.ItemCount)
                throw new ArgumentException($"Model {m + 1} has {c.ItemCount} items and model 1 has {first.ItemCount}; an ensemble's members share one catalogue.", nameof(models));
            if (c.MaxLength != first.MaxLength)
                throw new ArgumentException($"Model {m + 1} reads {c.MaxLength} items and model 1 reads {first.MaxLength}; an ensemble's members share one input window.", nameof(models));
            if (c.ItemRepresentation != ItemRepresentations.Id)
                throw new ArgumentException($"Model {m + 1} uses the '{c.ItemRepresentation}' item representation; only id models can be combined (a new item's text vector would need every member's projection).", nameof(models));
        }
        if (itemIds.Count != first.ItemCount)
            throw new ArgumentException($"{itemIds.Count} item ids given for models of {first.ItemCount} items.", nameof(itemIds));

        var dimension = models.Sum(m => m.Config.Dimension);
        var encoder = MergeEncoders(models.Select(m => new SasRecGraph(m.Config, name => m.Get(name).Data).Build()).ToArray(), dimension);
        var embeddings = new float[first.ItemCount * dimension];
        var offset = 0;
        foreach (var model in models)
        {
            var d = model.Config.Dimension;
            var table = model.ItemEmbeddings();
            for (var i = 0; i < first.ItemCount; i++)
                table.AsSpan(i * d, d).CopyTo(embeddings.AsSpan(i * dimension + offset, d));
            offset += d;
        }
        var manifest = new ModelManifest
        {
            Version = version,
            Kind = SasRecExporter.Kind,
            Dimension = dimension,
            MaxLength = first.MaxLength,
            Similarity = SimilarityKinds.Dot,
            ItemIds = itemIds.ToArray(),
            Training = training ?? new JsonObject
            {
                ["ensemble"] = new JsonArray(models.Select(m => (JsonNode)SasRecExporter.Describe(m.Config)).ToArray()),
            },
            Metrics = metrics,
            ItemRepresentation = ItemRepresentations.Id,
        };
        return new ModelPackage(manifest, encoder, embeddings, null);
    }

    /// <summary>
    /// One graph that runs every member encoder on the shared input and concatenates their outputs: each member's
    /// values are renamed with a "m{k}." prefix so that their constants and intermediate values cannot collide.
    /// </summary>
    private static byte[] MergeEncoders(byte[][] members, int dimension)
    {
        var parsed = members.Select(m => ModelProto.Parser.ParseFrom(m)).ToArray();
        var merged = new GraphProto { Name = "sasrec_ensemble" };
        var outputs = new List<string>();
        for (var k = 0; k < parsed.Length; k++)
        {
            var graph = parsed[k].Graph;
            var prefix = $"m{k}.";
            string Rename(string name) => name.Length == 0 || name == ModelPackage.EncoderInput ? name : prefix + name;
            foreach (var initializer in graph.Initializer)
            {
                var copy = initializer.Clone();
                copy.Name = Rename(copy.Name);
                merged.Initializer.Add(copy);
            }
            foreach (var node in graph.Node)
            {
                var copy = node.Clone();
                copy.Name = prefix + copy.Name;
                for (var i = 0; i < copy.Input.Count; i++) copy.Input[i] = Rename(copy.Input[i]);
                for (var i = 0; i < copy.Output.Count; i++) copy.Output[i] = Rename(copy.Output[i]);
                merged.Node.Add(copy);
            }
            if (k == 0) merged.Input.Add(graph.Input.Single(i => i.Name == ModelPackage.EncoderInput).Clone());
            outputs.Add(Rename(ModelPackage.EncoderOutput));
        }
        var concat = new NodeProto { OpType = "Concat", Name = "ensemble_concat" };
        concat.Input.AddRange(outputs);
        concat.Output.Add(ModelPackage.EncoderOutput);
        concat.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        merged.Node.Add(concat);
        var output = new ValueInfoProto { Name = ModelPackage.EncoderOutput, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto() } } };
        output.Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        output.Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = dimension });
        merged.Output.Add(output);
        // Same IR version, opset and producer as a single member.
        var model = parsed[0];
        model.Graph = merged;
        return model.ToByteArray();
    }
}

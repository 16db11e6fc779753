using Recommender.Model.Data;
using Recommender.Model.Nn;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;
using Recommender.Model.Sasrec;
using Recommender.Model.Tests.Nn;
using Recommender.Model.Tests.Training;
using Recommender.Model.Text;
using Recommender.Model.Training;

namespace Recommender.Model.Tests.Text;

public sealed class TextModelTests
{
    private const int Items = 20;
    private const int TextDimension = 24;

    private static SasRecConfig Config(string representation, int dimension = 32, float dropout = 0.1f) => new()
    {
        ItemCount = Items, MaxLength = 10, Dimension = dimension, Blocks = 2, Heads = 2, FeedForwardDimension = dimension, Dropout = dropout,
        ItemRepresentation = representation, TextDimension = TextDimension, TextEncoder = "test-encoder", TextTemplate = ItemText.Template,
    };

    /// <summary>A random unit vector per item, row-major [count, TextDimension].</summary>
    private static float[] UnitVectors(int count, int seed)
    {
        var values = GradientCheck.Random(count * TextDimension, seed);
        for (var i = 0; i < count; i++)
        {
            var row = values.AsSpan(i * TextDimension, TextDimension);
            System.Numerics.Tensors.TensorPrimitives.Divide(row, System.Numerics.Tensors.TensorPrimitives.Norm(row), row);
        }
        return values;
    }

    public static TheoryData<string, LossKind, float> GradientVariants => new()
    {
        { ItemRepresentations.Text, LossKind.SoftmaxCrossEntropy, 0f }, { ItemRepresentations.IdAndText, LossKind.SoftmaxCrossEntropy, 0f },
        { ItemRepresentations.IdAndText, LossKind.Bce, 0f }, { ItemRepresentations.Text, LossKind.Gbce, 0f },
        { ItemRepresentations.IdAndText, LossKind.SoftmaxCrossEntropy, 0.5f },
    };

    /// <summary>Through the item table into the projection and the id rows: every trainable parameter against finite differences.</summary>
    [Theory]
    [MemberData(nameof(GradientVariants))]
    public void Gradients_of_the_text_projection_and_id_rows_match_finite_differences(string representation, LossKind kind, float idDropout)
    {
        var config = new SasRecConfig
        {
            ItemCount = 12, MaxLength = 7, Dimension = 8, Heads = 2, Blocks = 1, FeedForwardDimension = 12, Dropout = 0.3f, Activation = "gelu",
            ItemRepresentation = representation, TextDimension = 5, TextEncoder = "test-encoder", ItemIdDropout = idDropout,
        };
        var model = new SasRecModel(config, seed: 11, GradientCheck.Random(12 * 5, 3));
        // Give the zero-initialised parts (id rows, projection bias) values so that no term of the gradient can hide.
        foreach (var name in new[] { ItemRepresentation.BiasName, ItemRepresentation.IdEmbeddingName })
            if (model.Parameters.Any(p => p.Name == name))
            {
                var p = model.Get(name);
                GradientCheck.Random(p.Data.Length, name.Length, 0.3).CopyTo(p.Data, 0);
                if (name == ItemRepresentation.IdEmbeddingName) p.Data.AsSpan(0, config.Dimension).Clear();
            }
        var loss = SequenceLoss.Create(kind, config.ItemCount, negatives: 5, calibration: 0.75);
        var (sequences, negatives) = WholeModelLoss.SmallCase(loss);

        double Run(float[][]? grads)
        {
            model.RefreshTransposes();
            // The same items lose their id rows in every evaluation, as within one training step.
            model.Representation!.DropIds(SplitMix.For(9));
            return WholeModelLoss.Evaluate(model, loss, sequences, negatives, grads);
        }

        var analytic = model.Parameters.Select(p => new float[p.Data.Length]).ToArray();
        Run(analytic);
        model.Representation!.Backward(analytic);
        if (idDropout > 0)
        {
            var id = model.Get(ItemRepresentation.IdEmbeddingName).Index;
            var rowsWithoutGradient = Enumerable.Range(1, 12).Count(i => analytic[id].AsSpan(i * 8, 8).IndexOfAnyExcept(0f) < 0);
            Assert.InRange(rowsWithoutGradient, 2, 10);
        }
        var text = model.Get(ItemRepresentation.TextName);
        var textBefore = text.Data.ToArray();
        var checkedNames = new List<string>();
        foreach (var p in model.Parameters.Where(p => p.Trainable))
        {
            var stride = p.Name == ItemRepresentation.WeightName ? 1 : Math.Max(1, p.Data.Length / 9);
            GradientCheck.AssertMatches(p.Name, p.Data, analytic[p.Index], () => Run(null), epsilon: 1e-2f, tolerance: 5e-3, stride: stride);
            checkedNames.Add(p.Name);
        }
        Assert.Contains(ItemRepresentation.WeightName, checkedNames);
        Assert.Contains(ItemRepresentation.BiasName, checkedNames);
        Assert.Equal(representation == ItemRepresentations.IdAndText, checkedNames.Contains(ItemRepresentation.IdEmbeddingName));
        Assert.DoesNotContain("item_emb", checkedNames);
        Assert.DoesNotContain(ItemRepresentation.TextName, checkedNames);
        Assert.Equal(textBefore, text.Data);
    }

    [Fact]
    public void A_fresh_model_scores_every_item_by_its_text_alone()
    {
        var text = UnitVectors(Items, 1);
        foreach (var representation in new[] { ItemRepresentations.Text, ItemRepresentations.IdAndText })
        {
            var model = new SasRecModel(Config(representation), seed: 2, text);
            Assert.Equal(model.ProjectText(text, Items), model.ItemEmbeddings());
            Assert.All(model.Get("item_emb").Data.Take(32), v => Assert.Equal(0f, v));
        }
    }

    [Fact]
    public void Id_dropout_leaves_dropped_items_with_their_text_vector_for_one_step()
    {
        var text = UnitVectors(Items, 1);
        var model = new SasRecModel(Config(ItemRepresentations.IdAndText) with { ItemIdDropout = 0.5f }, seed: 2, text);
        var id = model.Get(ItemRepresentation.IdEmbeddingName).Data;
        GradientCheck.Random(id.Length, 3, 0.5).CopyTo(id, 0);
        id.AsSpan(0, 32).Clear();
        model.RefreshTransposes();
        var full = model.ItemEmbeddings();
        var textOnly = model.ProjectText(text, Items);
        model.Representation!.DropIds(SplitMix.For(4));
        var dropped = model.ItemEmbeddings();
        var droppedCount = 0;
        for (var i = 0; i < Items; i++)
        {
            var row = dropped.AsSpan(i * 32, 32);
            if (row.SequenceEqual(full.AsSpan(i * 32, 32))) continue;
            droppedCount++;
            for (var c = 0; c < 32; c++) Assert.True(Math.Abs(textOnly[i * 32 + c] - row[c]) <= 1e-5f, $"item {i + 1}, column {c}");
        }
        Assert.InRange(droppedCount, 4, 16);
        model.RefreshTransposes();
        Assert.Equal(full, model.ItemEmbeddings());
        Assert.Contains("id+text representation only",
            Assert.Throws<ArgumentException>(() => new SasRecModel(Config(ItemRepresentations.Text) with { ItemIdDropout = 0.2f }, 1, text)).Message);
    }

    [Fact]
    public void Text_models_are_built_only_with_matching_text_vectors()
    {
        Assert.Contains("needs the items' text vectors",
            Assert.Throws<ArgumentException>(() => new SasRecModel(Config(ItemRepresentations.Text), seed: 1)).Message);
        Assert.Contains("takes no text vectors",
            Assert.Throws<ArgumentException>(() => new SasRecModel(new SasRecConfig { ItemCount = Items }, 1, new float[Items])).Message);
        Assert.Contains($"{Items} items of text dimension {TextDimension} need {Items * TextDimension}",
            Assert.Throws<ArgumentException>(() => new SasRecModel(Config(ItemRepresentations.Text), 1, new float[7])).Message);
        Assert.Contains("does not fit text dimension 0",
            Assert.Throws<ArgumentException>(() => new SasRecModel(Config(ItemRepresentations.Text) with { TextDimension = 0 }, 1, [])).Message);
        Assert.Contains("needs the name of the text encoder",
            Assert.Throws<ArgumentException>(() => new SasRecModel(Config(ItemRepresentations.Text) with { TextEncoder = null }, 1, new float[Items * TextDimension])).Message);
    }

    private static List<int[]> PlantedRule(int users, int seed) => Training.PlantedRule.Sequences(Items, users, seed);

    [Theory]
    [InlineData(ItemRepresentations.Text)]
    [InlineData(ItemRepresentations.IdAndText)]
    public void Training_learns_through_the_projection_keeps_text_frozen_and_exports_a_matching_package(string representation)
    {
        var text = UnitVectors(Items, 5);
        var model = new SasRecModel(Config(representation), seed: 3, text);
        var test = PlantedRule(100, seed: 2).Select(s => new EvaluationCase(s[..^1], s[^1])).ToList();
        var before = SasRecTrainer.Evaluate(model, test).HitRate(1);
        var options = new TrainingOptions { Epochs = 15, BatchSize = 32, LearningRate = 1e-2, Threads = 2, Patience = 100 };
        var result = new SasRecTrainer(model, options).Train(PlantedRule(300, seed: 1), null, outputDirectory: null);
        var after = SasRecTrainer.Evaluate(model, test).HitRate(1);
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.True(before < 0.3, $"An untrained model should not know the rule (HR@1 {before}).");
        Assert.True(after >= 0.9, $"HR@1 after training is {after} with '{representation}'.");
        Assert.Equal(text, model.Get(ItemRepresentation.TextName).Data.AsSpan(TextDimension).ToArray());

        // The table the model scores with is exactly its parts after the last update.
        var expected = model.ProjectText(text, Items);
        if (representation == ItemRepresentations.IdAndText)
        {
            var id = model.Get(ItemRepresentation.IdEmbeddingName).Data.AsSpan(32);
            Assert.Contains(id.ToArray(), v => v != 0f);
            System.Numerics.Tensors.TensorPrimitives.Add(expected, id, expected);
        }
        var table = model.ItemEmbeddings();
        Assert.True(expected.Zip(table, (e, a) => Math.Abs(e - a)).Max() <= 1e-5f);

        var package = SasRecExporter.Export(model, Enumerable.Range(1, Items).Select(i => $"m{i}").ToArray(), "text-parity", null, null);
        Assert.Equal(representation, package.Manifest.ItemRepresentation);
        Assert.Equal("test-encoder", package.Manifest.TextEncoder);
        Assert.Equal(TextDimension, package.Manifest.TextDimension);
        Assert.Equal(ItemText.Template, package.Manifest.TextTemplate);
        Assert.Equal(table, package.ItemEmbeddings);
        Assert.True(package.HasTextProjection);

        // ONNX projection against the trainer's, on new text vectors (items the model never saw).
        var unseen = UnitVectors(7, 99);
        using var projection = new TextProjectionSession(package);
        var onnx = projection.Project(unseen, 7);
        var trainer = model.ProjectText(unseen, 7);
        Assert.True(onnx.Zip(trainer, (o, t) => Math.Abs(o - t)).Max() <= 1e-4f, "projection parity");
        Assert.True(trainer.Select(Math.Abs).Max() > 0.1f);

        using var encoder = new OnnxEncoder(package);
        int[][] histories = [[1, 2, 3], [7], [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], []];
        var expectedUsers = model.Encode(histories);
        Assert.True(expectedUsers.Zip(encoder.Encode(histories), (e, a) => Math.Abs(e - a)).Max() <= 1e-4f, "encoder parity");
    }

    [Fact]
    public void A_text_model_checkpoint_round_trips()
    {
        var path = Path.Combine(Path.GetTempPath(), $"text-model-{Guid.NewGuid():N}.model");
        try
        {
            var model = new SasRecModel(Config(ItemRepresentations.IdAndText), seed: 4, UnitVectors(Items, 6));
            var id = model.Get(ItemRepresentation.IdEmbeddingName).Data;
            GradientCheck.Random(id.Length, 8, 0.1).CopyTo(id, 0);
            model.RefreshTransposes();
            model.Save(path);
            var loaded = SasRecModel.Load(path);
            Assert.Equal(model.Config, loaded.Config);
            Assert.Equal(model.ItemEmbeddings(), loaded.ItemEmbeddings());
            int[][] histories = [[1, 2, 3], [4]];
            Assert.Equal(model.Encode(histories), loaded.Encode(histories));
        }
        finally
        {
            File.Delete(path);
        }
    }
}

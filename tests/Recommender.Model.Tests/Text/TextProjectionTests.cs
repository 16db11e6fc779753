using System.Text.Json;
using Recommender.Model.Nn;
using Recommender.Model.Packaging;
using Recommender.Model.Tests.Data;
using Recommender.Model.Text;

namespace Recommender.Model.Tests.Text;

public sealed class TextProjectionTests : IDisposable
{
    private readonly string _directory = SharedData.TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static float[] Random(int length, int seed)
    {
        var rng = SplitMix.For(seed);
        var values = new float[length];
        for (var i = 0; i < length; i++) values[i] = (float)rng.NextGaussian();
        return values;
    }

    private static ModelManifest Manifest(string representation, int textDimension, int dimension = 4) => new()
    {
        Version = "text-1",
        Kind = "test",
        Dimension = dimension,
        MaxLength = 3,
        ItemIds = ["a", "b"],
        ItemRepresentation = representation,
        TextEncoder = representation == ItemRepresentations.Id ? null : SentenceTextEncoder.ModelName,
        TextDimension = textDimension,
        TextTemplate = representation == ItemRepresentations.Id ? null : ItemText.Template,
    };

    [Fact]
    public void Onnx_projection_equals_the_matrix_product()
    {
        const int textDimension = 6, dimension = 4, count = 5;
        var weight = Random(textDimension * dimension, 1);
        var bias = Random(dimension, 2);
        var input = Random(count * textDimension, 3);
        using var session = new TextProjectionSession(TextProjectionGraph.Build(weight, bias, textDimension, dimension), textDimension, dimension);
        var output = session.Project(input, count);
        Assert.Equal(count * dimension, output.Length);
        for (var r = 0; r < count; r++)
            for (var d = 0; d < dimension; d++)
            {
                var expected = (double)bias[d];
                for (var k = 0; k < textDimension; k++) expected += (double)input[r * textDimension + k] * weight[k * dimension + d];
                Assert.Equal(expected, output[r * dimension + d], 4);
            }
        Assert.Empty(session.Project([], 0));
    }

    [Fact]
    public void Package_round_trips_its_projection_and_the_session_loads_it_from_the_directory()
    {
        var weight = Random(3 * 4, 4);
        var bias = Random(4, 5);
        var package = new ModelPackage(Manifest(ItemRepresentations.IdAndText, 3), [1, 2, 3], new float[8], TextProjectionGraph.Build(weight, bias, 3, 4));
        package.Save(_directory);
        var loaded = ModelPackage.Load(_directory);
        Assert.True(loaded.HasTextProjection);
        Assert.Equal(ItemRepresentations.IdAndText, loaded.Manifest.ItemRepresentation);
        Assert.Equal(SentenceTextEncoder.ModelName, loaded.Manifest.TextEncoder);
        Assert.Equal(3, loaded.Manifest.TextDimension);
        Assert.Equal(ItemText.Template, loaded.Manifest.TextTemplate);
        using var session = new TextProjectionSession(_directory);
        Assert.Equal(bias, session.Project([0f, 0f, 0f], 1));

        // Re-saving as an id-only package removes the stale projection.
        new ModelPackage(Manifest(ItemRepresentations.Id, 0), [1, 2, 3], new float[8]).Save(_directory);
        Assert.False(ModelPackage.Load(_directory).HasTextProjection);
        var missing = Assert.Throws<FileNotFoundException>(() => new TextProjectionSession(_directory));
        Assert.Contains(ModelPackage.TextProjectionFile, missing.Message);
    }

    [Fact]
    public void A_manifest_written_before_the_text_fields_still_loads_as_id_only()
    {
        const string json = """
            { "format": 1, "version": "old-1", "kind": "sasrec", "dimension": 4, "maxLength": 3, "similarity": "dot", "itemIds": ["a", "b"] }
            """;
        var manifest = JsonSerializer.Deserialize<ModelManifest>(json, ModelPackage.JsonOptions)!;
        Assert.Equal(ItemRepresentations.Id, manifest.ItemRepresentation);
        Assert.Null(manifest.TextEncoder);
        Assert.Equal(0, manifest.TextDimension);
        Assert.False(new ModelPackage(manifest, [1], new float[8]).HasTextProjection);
    }

    [Fact]
    public void Inconsistent_text_fields_are_rejected_with_the_reason()
    {
        var projection = TextProjectionGraph.Build(new float[12], new float[4], 3, 4);
        Assert.Contains("Unknown item representation 'words'",
            Assert.Throws<InvalidDataException>(() => new ModelPackage(Manifest("words", 3), [1], new float[8])).Message);
        Assert.Contains("needs a positive text dimension",
            Assert.Throws<InvalidDataException>(() => new ModelPackage(Manifest(ItemRepresentations.Text, 0), [1], new float[8])).Message);
        Assert.Contains("uses no text",
            Assert.Throws<InvalidDataException>(() => new ModelPackage(Manifest(ItemRepresentations.Id, 0), [1], new float[8], projection)).Message);
    }

    [Fact]
    public void Wrong_dimensions_are_named()
    {
        var projection = TextProjectionGraph.Build(new float[12], new float[4], 3, 4);
        var wrongInput = Assert.Throws<InvalidDataException>(() => new TextProjectionSession(projection, 5, 4));
        Assert.Contains("[batch, 5]", wrongInput.Message);
        var wrongOutput = Assert.Throws<InvalidDataException>(() => new TextProjectionSession(projection, 3, 8));
        Assert.Contains("output 'item_vector'", wrongOutput.Message);
        using var session = new TextProjectionSession(projection, 3, 4);
        var wrongLength = Assert.Throws<ArgumentException>(() => session.Project(new float[7], 2));
        Assert.Contains("2 vectors of dimension 3 need 6", wrongLength.Message);
        Assert.Contains("weight has 11 values",
            Assert.Throws<ArgumentException>(() => TextProjectionGraph.Build(new float[11], new float[4], 3, 4)).Message);
        Assert.Contains("does not load",
            Assert.Throws<InvalidDataException>(() => new TextProjectionSession([1, 2, 3], 3, 4)).Message);
    }
}

using System.Text;
using System.Text.Json.Nodes;
using Recommender.Model.Packaging;
using Recommender.Model.Sasrec;
using Recommender.Model.Training;

namespace Recommender.Model.Tests.Packages;

/// <summary>A damaged package, checkpoint or trainer state is an InvalidDataException naming the file, never a JSON, end-of-stream or null-reference error.</summary>
public sealed class DamagedFileTests : IDisposable
{
    private static readonly SasRecConfig Config = new() { ItemCount = 12, MaxLength = 6, Dimension = 8, Heads = 2, Blocks = 1, FeedForwardDimension = 8 };

    private readonly string _directory = Data.SharedData.TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string SavedPackage()
    {
        var directory = Path.Combine(_directory, "package");
        var manifest = new ModelManifest { Version = "v1", Kind = "test", Dimension = 2, MaxLength = 4, ItemIds = ["a", "b"] };
        new ModelPackage(manifest, [1], [1, 0, 0, 1]).Save(directory);
        return directory;
    }

    private static string WithItemIds(string manifestJson, JsonNode? itemIds)
    {
        var node = JsonNode.Parse(manifestJson)!;
        node["itemIds"] = itemIds;
        return node.ToJsonString();
    }

    public static TheoryData<string, string> BadManifests => new()
    {
        { "{ \"version\": \"v1\", ", "is not a valid model manifest" },
        { "", "is empty" },
        { "  \n", "is empty" },
        { "{}", "missing required properties" },
        { "null", "holds null" },
        { "[1, 2]", "is not a valid model manifest" },
        { "ITEM_IDS_NULL", "itemIds is missing or null" },
        { "ITEM_ID_NULL", "itemIds[1] is null" },
    };

    [Theory]
    [MemberData(nameof(BadManifests))]
    public void A_bad_manifest_names_its_path_and_the_problem(string content, string problem)
    {
        var directory = SavedPackage();
        var manifestPath = Path.Combine(directory, ModelPackage.ManifestFile);
        var good = File.ReadAllText(manifestPath);
        ModelPackage.Load(directory);
        content = content switch
        {
            "ITEM_IDS_NULL" => WithItemIds(good, null),
            "ITEM_ID_NULL" => WithItemIds(good, new JsonArray("a", null)),
            _ => content,
        };
        File.WriteAllText(manifestPath, content);
        var error = Assert.Throws<InvalidDataException>(() => ModelPackage.Load(directory));
        Assert.Contains($"'{manifestPath}'", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void A_manifest_without_item_ids_is_refused_by_the_constructor_too()
    {
        var manifest = new ModelManifest { Version = "v1", Kind = "test", Dimension = 2, MaxLength = 4, ItemIds = null! };
        Assert.Contains("itemIds is missing", Assert.Throws<InvalidDataException>(() => new ModelPackage(manifest, [1], [])).Message);
    }

    [Fact]
    public void Files_that_disagree_name_the_package()
    {
        var directory = SavedPackage();
        File.WriteAllBytes(Path.Combine(directory, ModelPackage.EmbeddingsFile), new byte[3 * sizeof(float)]);
        var error = Assert.Throws<InvalidDataException>(() => ModelPackage.Load(directory));
        Assert.Contains($"'{directory}'", error.Message);
        Assert.Contains("embeddings hold 3 floats", error.Message);
    }

    [Fact]
    public void A_truncated_checkpoint_names_the_file_wherever_it_is_cut()
    {
        var path = Path.Combine(_directory, "model.ckpt");
        new SasRecModel(Config, seed: 1).Save(path);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(Config, SasRecModel.Load(path).Config);
        foreach (var length in new[] { 0, 5, 30, bytes.Length / 2, bytes.Length - 1 })
        {
            File.WriteAllBytes(path, bytes[..length]);
            var error = Assert.Throws<InvalidDataException>(() => SasRecModel.Load(path));
            Assert.Contains($"'{path}'", error.Message);
        }
        File.WriteAllBytes(path, bytes[..(bytes.Length - 1)]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => SasRecModel.Load(path)).Message);
    }

    [Theory]
    [InlineData("{ not json", "configuration that cannot be read")]
    [InlineData("{\"Dimension\": 8}", "missing required properties")]
    [InlineData("{\"ItemCount\": 0}", "invalid model configuration: ItemCount is 0")]
    [InlineData("{\"ItemCount\": 5, \"Dimension\": 2000000000}", "invalid model configuration: Dimension is 2000000000")]
    public void A_checkpoint_with_a_bad_configuration_names_the_file(string configJson, string problem)
    {
        var path = Path.Combine(_directory, "model.ckpt");
        new SasRecModel(Config, seed: 1).Save(path);
        using (var reader = new BinaryReader(File.OpenRead(path)))
        {
            var magic = reader.ReadString();
            reader.ReadString(); // the good configuration
            var rest = reader.ReadBytes((int)(reader.BaseStream.Length - reader.BaseStream.Position));
            reader.Close();
            using var writer = new BinaryWriter(File.Create(path), Encoding.UTF8);
            writer.Write(magic);
            writer.Write(configJson);
            writer.Write(rest);
        }
        var error = Assert.Throws<InvalidDataException>(() => SasRecModel.Load(path));
        Assert.Contains($"'{path}'", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void A_truncated_or_foreign_trainer_state_names_the_file()
    {
        var run = Path.Combine(_directory, "run");
        var options = new TrainingOptions { Epochs = 1, BatchSize = 4, Threads = 1 };
        new SasRecTrainer(new SasRecModel(Config, seed: 1), options).Train([[1, 2, 3], [4, 5, 6, 7], [2, 3]], null, run);
        var statePath = Path.Combine(run, SasRecTrainer.LastStateFile);
        var state = File.ReadAllBytes(statePath);
        Assert.Equal(1, SasRecTrainer.Resume(run, options).Epoch);

        foreach (var length in new[] { 0, 10, state.Length / 2, state.Length - 1 })
        {
            File.WriteAllBytes(statePath, state[..length]);
            var error = Assert.Throws<InvalidDataException>(() => SasRecTrainer.Resume(run, options));
            Assert.Contains($"'{statePath}'", error.Message);
        }
        File.WriteAllBytes(statePath, state[..(state.Length / 2)]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => SasRecTrainer.Resume(run, options)).Message);

        File.WriteAllBytes(statePath, [.. state, 0, 0, 0, 0]);
        Assert.Contains("another shape", Assert.Throws<InvalidDataException>(() => SasRecTrainer.Resume(run, options)).Message);
    }
}

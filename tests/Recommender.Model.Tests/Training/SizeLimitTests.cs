using Recommender.Model.Baselines;
using Recommender.Model.Data;
using Recommender.Model.Sasrec;
using Recommender.Model.Training;

namespace Recommender.Model.Tests.Training;

/// <summary>Sizes too large to allocate fail at once with a message naming the size, not with an overflow, OOM or hang.</summary>
public sealed class SizeLimitTests : IDisposable
{
    private static readonly SasRecConfig Config = new() { ItemCount = 10, MaxLength = 4, Dimension = 8, FeedForwardDimension = 8 };

    private readonly string _directory = Data.SharedData.TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static void AssertNamed(string expected, Action action) =>
        Assert.Contains(expected, Assert.Throws<ArgumentException>(action).Message);

    [Fact]
    public void Model_sizes_above_their_limits_are_named_before_anything_is_allocated()
    {
        AssertNamed("Dimension is 2000000000", () => new SasRecModel(Config with { Dimension = 2_000_000_000, FeedForwardDimension = 8 }, seed: 1));
        AssertNamed("ItemCount is 2000000000", () => (Config with { ItemCount = 2_000_000_000 }).Validate());
        AssertNamed("MaxLength is 2000000000", () => (Config with { MaxLength = 2_000_000_000 }).Validate());
        AssertNamed("FeedForwardDimension is 2000000000", () => (Config with { FeedForwardDimension = 2_000_000_000 }).Validate());
        AssertNamed("Blocks is 100000", () => (Config with { Blocks = 100_000 }).Validate());
        AssertNamed("Heads is 128", () => (Config with { Dimension = 256, Heads = 128 }).Validate());
        // Each size within its limit, but together too large for one tensor.
        AssertNamed("item table", () => (Config with { ItemCount = ModelLimits.MaxItemCount, Dimension = ModelLimits.MaxDimension }).Validate());
    }

    [Fact]
    public void Sizes_at_their_limits_are_accepted()
    {
        (Config with { ItemCount = ModelLimits.MaxItemCount, Dimension = 64 }).Validate();
        (Config with { MaxLength = ModelLimits.MaxSequenceLength, Dimension = ModelLimits.MaxDimension, Heads = ModelLimits.MaxHeads, FeedForwardDimension = ModelLimits.MaxFeedForwardDimension }).Validate();
        new TrainingOptions { Negatives = ModelLimits.MaxNegatives, Threads = ModelLimits.MaxThreads }.Validate();
    }

    [Fact]
    public void A_parameter_too_large_for_one_array_is_named()
    {
        var error = Assert.Throws<ArgumentException>(() => new Parameter("huge", [100_000, 100_000]));
        Assert.Contains("'huge' [100000, 100000]", error.Message);
    }

    [Fact]
    public void Training_sizes_above_their_limits_are_named()
    {
        AssertNamed("Negatives is 2000000000", () => new TrainingOptions { Negatives = 2_000_000_000 }.Validate());
        AssertNamed("Threads is 2000000000", () => new TrainingOptions { Threads = 2_000_000_000 }.Validate());
    }

    [Fact]
    public void A_batch_size_near_int_max_trains_everything_in_one_step()
    {
        var sequences = PlantedRule.Sequences(10, 20, seed: 1);
        var options = new TrainingOptions { Epochs = 1, BatchSize = int.MaxValue, Threads = 1 };
        var result = new SasRecTrainer(new SasRecModel(Config, seed: 1), options).Train(sequences, null, null);
        Assert.Equal(TrainingOutcome.Completed, result.Outcome);
        Assert.True(double.IsFinite(result.Curve[0].Loss), $"loss {result.Curve[0].Loss}");
    }

    [Fact]
    public void Baseline_sizes_above_their_limits_are_named()
    {
        var data = new SequenceDataset([[1, 2, 3], [2, 3, 4]], SequenceDataset.IdentityVocabulary(4));
        AssertNamed("dimension is 2000000000", () => RecencyMeanModel.Build(data, "v", dimension: 2_000_000_000));
        AssertNamed("maxLength is 2000000000", () => RecencyMeanModel.Build(data, "v", dimension: 2, maxLength: 2_000_000_000));
    }

    [Fact]
    public void The_identity_vocabulary_of_a_huge_count_is_made_on_demand()
    {
        var vocabulary = SequenceDataset.IdentityVocabulary(int.MaxValue);
        Assert.Equal(int.MaxValue, vocabulary.Count);
        Assert.Equal("2147483647", vocabulary[int.MaxValue - 1]);
        Assert.Equal(["1", "2", "3"], SequenceDataset.IdentityVocabulary(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => vocabulary[-1]);
    }

    [Theory]
    [InlineData("2147483647")]
    [InlineData("99999999999")]
    [InlineData("10000001")]
    public void A_dense_id_beyond_the_item_limit_is_an_error_naming_file_and_line(string id)
    {
        var path = Write("big.txt", $"1 2 3\n2 {id} 1\n");
        Assert.StartsWith($"{path}:2: ", Assert.Throws<FormatException>(() => SequenceFile.LoadDense(path)).Message);
        Assert.StartsWith($"{path}:2: ", Assert.Throws<FormatException>(() => InteractionLoader.Load(path, InteractionFormat.Sequences)).Message);
    }

    [Fact]
    public void The_loader_names_file_and_line_of_a_kept_dense_id_beyond_the_item_limit()
    {
        var path = Write("big.txt", "1 2 3\n\n2 2147483647 1\n");
        var error = Assert.Throws<FormatException>(() => InteractionLoader.Load(path, InteractionFormat.Sequences));
        Assert.StartsWith($"{path}:3: item id 2147483647 is above 10,000,000", error.Message);
    }

    [Fact]
    public void The_largest_allowed_dense_id_loads_without_building_millions_of_strings()
    {
        var path = Write("edge.txt", $"1 {ModelLimits.MaxItemCount}\n");
        var data = SequenceFile.LoadDense(path);
        Assert.Equal(ModelLimits.MaxItemCount, data.ItemCount);
        Assert.Equal("10000000", data.ItemIds[^1]);
    }
}

using Recommender.Model.Baselines;
using Recommender.Model.Data;
using Recommender.Model.Packaging;
using Recommender.Model.Sasrec;
using Recommender.Model.Text;
using Recommender.Model.Training;

namespace Recommender.Model.Tests.Training;

/// <summary>Every floating-point option rejects NaN and the infinities with a message naming the option.</summary>
public sealed class OptionValidationTests
{
    private static readonly SasRecConfig Config = new() { ItemCount = 10, MaxLength = 4, Dimension = 8, FeedForwardDimension = 8 };

    private static readonly SasRecConfig IdAndText = Config with
    {
        ItemRepresentation = ItemRepresentations.IdAndText, TextDimension = 4, TextEncoder = "test-encoder",
    };

    public static TheoryData<double> NonFinite => [double.NaN, double.PositiveInfinity, double.NegativeInfinity];

    private static void AssertNamed(string option, double value, Action validate)
    {
        var error = Assert.Throws<ArgumentException>(validate);
        Assert.Contains(option, error.Message);
        Assert.Contains(value.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message);
    }

    [Theory]
    [MemberData(nameof(NonFinite))]
    public void Model_options_reject_non_finite_values(double value)
    {
        var v = (float)value;
        Config.Validate();
        IdAndText.Validate();
        AssertNamed("Dropout", value, () => (Config with { Dropout = v }).Validate());
        AssertNamed("AttentionDropout", value, () => (Config with { AttentionDropout = v }).Validate());
        AssertNamed("InputItemDropout", value, () => (Config with { InputItemDropout = v }).Validate());
        AssertNamed("InitStd", value, () => (Config with { InitStd = v }).Validate());
        AssertNamed("ItemIdDropout", value, () => (IdAndText with { ItemIdDropout = v }).Validate());
        Assert.Contains("Temperature", Assert.Throws<ArgumentException>(() => (Config with { Temperature = v }).Validate()).Message);
    }

    [Theory]
    [MemberData(nameof(NonFinite))]
    public void Training_options_reject_non_finite_values(double value)
    {
        var options = new TrainingOptions();
        options.Validate();
        AssertNamed("LearningRate", value, () => (options with { LearningRate = value }).Validate());
        AssertNamed("LearningRateDecayFactor", value, () => (options with { LearningRateDecayEpoch = 3, LearningRateDecayFactor = value }).Validate());
        AssertNamed("Beta1", value, () => (options with { Beta1 = value }).Validate());
        AssertNamed("Beta2", value, () => (options with { Beta2 = value }).Validate());
        AssertNamed("WeightDecay", value, () => (options with { WeightDecay = value }).Validate());
        AssertNamed("Calibration", value, () => (options with { Calibration = value }).Validate());
        AssertNamed("EarlierWindowRate", value, () => (options with { EarlierWindowRate = value }).Validate());
        AssertNamed("UserBalance", value, () => (options with { UserBalance = value }).Validate());
    }

    [Fact]
    public void Values_just_outside_a_range_are_rejected_and_its_ends_follow_the_documented_interval()
    {
        var options = new TrainingOptions();
        (options with { Calibration = 0 }).Validate();
        (options with { Calibration = 1 }).Validate();
        (options with { LearningRateDecayFactor = 1 }).Validate();
        AssertNamed("LearningRateDecayFactor", 0, () => (options with { LearningRateDecayFactor = 0 }).Validate());
        AssertNamed("Beta2", 1, () => (options with { Beta2 = 1 }).Validate());
        AssertNamed("WeightDecay", -0.5, () => (options with { WeightDecay = -0.5 }).Validate());
        AssertNamed("Dropout", 1, () => (Config with { Dropout = 1 }).Validate());
        Assert.Contains("[0, 1)", Assert.Throws<ArgumentException>(() => (Config with { Dropout = -0.1f }).Validate()).Message);
    }

    [Theory]
    [MemberData(nameof(NonFinite))]
    public void Optimiser_loss_and_baseline_arguments_reject_non_finite_values(double value)
    {
        var model = new SasRecModel(Config, seed: 1);
        AssertNamed("beta1", value, () => new AdamOptimizer(model, beta1: value));
        AssertNamed("epsilon", value, () => new AdamOptimizer(model, epsilon: value));
        AssertNamed("weightDecay", value, () => new AdamOptimizer(model, weightDecay: value));
        AssertNamed("calibration", value, () => new GbceLoss(10, 4, value));
        var data = new SequenceDataset([[1, 2, 3], [2, 3, 4]], SequenceDataset.IdentityVocabulary(4));
        AssertNamed("recencyDecay", value, () => RecencyMeanModel.Build(data, "v", dimension: 2, recencyDecay: (float)value));
        AssertNamed("contextSmoothing", value, () => CooccurrenceMatrix.Count(data.Sequences, 4, 2).PositivePmi(value));
    }

    [Theory]
    [MemberData(nameof(NonFinite))]
    public void Cold_start_and_preprocessing_options_reject_non_finite_values(double value)
    {
        var options = new ColdStartOptions { WorkDirectory = "unused" };
        options.Validate();
        AssertNamed("Holdout", value, () => (options with { Holdout = value }).Validate());
        AssertNamed("Dropout", value, () => (options with { Dropout = (float)value }).Validate());
        AssertNamed("ItemIdDropout", value, () => (options with { ItemIdDropout = (float)value }).Validate());
        AssertNamed("Beta1", value, () => (options with { Training = new TrainingOptions { Beta1 = value } }).Validate());
        AssertNamed("MinRating", value, () => new PreprocessingOptions { MinRating = value }.Validate());
    }

    [Fact]
    public void A_nan_rating_threshold_fails_the_load_instead_of_dropping_every_rating()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ratings-{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, "userId,movieId,rating,timestamp\n1,1,4.0,1\n1,2,4.0,2\n");
        try
        {
            Assert.Equal(2, InteractionLoader.Read(path, InteractionFormat.MovieLensCsv, new PreprocessingOptions { MinRating = 3 }).Summary.Kept);
            AssertNamed("MinRating", double.NaN, () => InteractionLoader.Read(path, InteractionFormat.MovieLensCsv, new PreprocessingOptions { MinRating = double.NaN }));
        }
        finally
        {
            File.Delete(path);
        }
    }
}

using Recommender.Model.Data;
using Recommender.Model.Sasrec;
using Recommender.Model.Training;

namespace Recommender.Model.Tests.Training;

public sealed class WeightAverageTests : IDisposable
{
    private const int Items = 20;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"weight-average-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private static SasRecConfig Config() => new()
    {
        ItemCount = Items, MaxLength = 10, Dimension = 16, Blocks = 1, Heads = 2, FeedForwardDimension = 16, Dropout = 0.1f,
    };

    private static List<EvaluationCase> Cases(IEnumerable<int[]> sequences) =>
        sequences.Select(s => new EvaluationCase(s[..^1], s[^1])).ToList();

    private static float[][] Weights(SasRecModel model) => model.Parameters.Select(p => (float[])p.Data.Clone()).ToArray();

    [Fact]
    public void The_average_follows_its_decay_and_a_second_swap_restores_the_raw_weights_exactly()
    {
        var model = new SasRecModel(Config(), seed: 1);
        var initial = Weights(model);
        var average = new WeightAverage(model, decay: 0.9);

        // Step 1 is in the warm-up: d = min(0.9, 2 / 11), so the new weights count for 9/11.
        foreach (var p in model.Parameters) for (var i = 0; i < p.Data.Length; i++) p.Data[i] += 1f;
        average.Update(step: 1);
        // Step 100 uses the decay itself: d = 0.9.
        foreach (var p in model.Parameters) for (var i = 0; i < p.Data.Length; i++) p.Data[i] += 1f;
        average.Update(step: 100);
        var raw = Weights(model);

        average.Swap();
        for (var index = 0; index < initial.Length; index++)
            for (var i = 0; i < initial[index].Length; i += 7)
            {
                var afterFirst = initial[index][i] + 9f / 11f;
                var expected = 0.9f * afterFirst + 0.1f * (initial[index][i] + 2f);
                Assert.Equal(expected, model.Parameters[index].Data[i], 1e-5f);
            }
        average.Swap();
        for (var index = 0; index < raw.Length; index++) Assert.Equal(raw[index], model.Parameters[index].Data);
    }

    [Fact]
    public void Validation_and_best_model_use_the_average_while_training_continues_from_the_raw_weights()
    {
        var train = PlantedRule.Sequences(Items, 80, seed: 2);
        var validation = Cases(PlantedRule.Sequences(Items, 30, seed: 3));
        var options = new TrainingOptions { Epochs = 3, BatchSize = 16, LearningRate = 1e-2, Threads = 2, Patience = 100 };
        var plain = new SasRecModel(Config(), seed: 4);
        new SasRecTrainer(plain, options).Train(train, validation, Path.Combine(_directory, "plain"));
        var averagedDir = Path.Combine(_directory, "averaged");
        var averaged = new SasRecTrainer(new SasRecModel(Config(), seed: 4), options with { WeightAverageDecay = 0.95 });
        var result = averaged.Train(train, validation, averagedDir);

        // The average does not change what is trained ...
        for (var i = 0; i < plain.Parameters.Count; i++) Assert.Equal(plain.Parameters[i].Data, averaged.Model.Parameters[i].Data);
        var last = SasRecModel.Load(Path.Combine(averagedDir, SasRecTrainer.LastModelFile));
        Assert.Equal(plain.Parameters[2].Data, last.Parameters[2].Data);
        // ... but it is what was validated and what best.model keeps.
        var best = SasRecModel.Load(Path.Combine(averagedDir, SasRecTrainer.BestModelFile));
        Assert.NotEqual(last.Parameters[2].Data, best.Parameters[2].Data);
        var bestRecord = result.Curve.Single(r => r.Epoch == result.BestEpoch);
        Assert.Equal(bestRecord.ValidationNdcg10!.Value, SasRecTrainer.Evaluate(best, validation).Ndcg(10), 12);
    }

    [Fact]
    public void Resuming_a_run_with_an_average_reproduces_it_and_a_state_from_before_averages_still_resumes()
    {
        var train = PlantedRule.Sequences(Items, 60, seed: 5);
        var options = new TrainingOptions { Epochs = 3, BatchSize = 16, Threads = 2, WeightAverageDecay = 0.9 };
        var straightDir = Path.Combine(_directory, "straight");
        new SasRecTrainer(new SasRecModel(Config(), seed: 6), options).Train(train, null, straightDir);

        var interruptedDir = Path.Combine(_directory, "interrupted");
        new SasRecTrainer(new SasRecModel(Config(), seed: 6), options with { Epochs = 2 }).Train(train, null, interruptedDir);
        SasRecTrainer.Resume(interruptedDir, options).Train(train, null, interruptedDir);
        foreach (var file in new[] { SasRecTrainer.LastModelFile, SasRecTrainer.BestModelFile })
        {
            var straight = SasRecModel.Load(Path.Combine(straightDir, file));
            var resumed = SasRecModel.Load(Path.Combine(interruptedDir, file));
            for (var i = 0; i < straight.Parameters.Count; i++) Assert.Equal(straight.Parameters[i].Data, resumed.Parameters[i].Data);
        }

        // A state from before model digests is version 2: version 3 without the 32-byte digest after the magic.
        // One from before averages is version 1: version 2 less the final "no average" flag. Both still resume.
        foreach (var version in new[] { '2', '1' })
        {
            var oldDir = Path.Combine(_directory, "old" + version);
            new SasRecTrainer(new SasRecModel(Config(), seed: 6), options with { Epochs = 1, WeightAverageDecay = 0 }).Train(train, null, oldDir);
            var statePath = Path.Combine(oldDir, SasRecTrainer.LastStateFile);
            var bytes = File.ReadAllBytes(statePath);
            Assert.Equal(0, bytes[^1]);
            var magic = System.Text.Encoding.UTF8.GetBytes("SASREC-TRAINER-STATE-3");
            Assert.Equal(magic, bytes[1..(1 + magic.Length)]);
            var old = bytes[..(1 + magic.Length)].Concat(bytes[(1 + magic.Length + 32)..(version == '1' ? ^1 : ^0)]).ToArray();
            old[magic.Length] = (byte)version;
            File.WriteAllBytes(statePath, old);
            var resumedOld = SasRecTrainer.Resume(oldDir, options);
            Assert.Equal(1, resumedOld.Epoch);
            Assert.Equal(3, resumedOld.Train(train, null, oldDir).EpochsRun);
        }
    }

    [Fact]
    public void With_item_text_the_item_table_is_rebuilt_from_whichever_weights_are_in_place()
    {
        const int textDimension = 6;
        var config = Config() with
        {
            ItemRepresentation = Packaging.ItemRepresentations.IdAndText, TextDimension = textDimension, TextEncoder = "test-encoder",
        };
        var text = Nn.GradientCheck.Random(Items * textDimension, 8);
        var train = PlantedRule.Sequences(Items, 60, seed: 9);
        var options = new TrainingOptions { Epochs = 2, BatchSize = 16, LearningRate = 1e-2, Threads = 2 };
        var plain = new SasRecModel(config, seed: 10, text);
        new SasRecTrainer(plain, options).Train(train, null, null);
        var directory = Path.Combine(_directory, "text");
        var averaged = new SasRecTrainer(new SasRecModel(config, seed: 10, text), options with { WeightAverageDecay = 0.9 });
        averaged.Train(train, null, directory);

        // After the epoch's swap back, the item table is the raw parts' again: the same as without an average.
        Assert.Equal(plain.ItemEmbeddings(), averaged.Model.ItemEmbeddings());
        averaged.Average!.Swap();
        var best = SasRecModel.Load(Path.Combine(directory, SasRecTrainer.BestModelFile));
        Assert.Equal(best.ItemEmbeddings(), averaged.Model.ItemEmbeddings());
        Assert.NotEqual(plain.ItemEmbeddings(), best.ItemEmbeddings());
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void A_decay_outside_zero_to_one_is_refused(double decay)
    {
        var error = Assert.Throws<ArgumentException>(() => new TrainingOptions { WeightAverageDecay = decay }.Validate());
        Assert.Contains(nameof(TrainingOptions.WeightAverageDecay), error.Message);
    }
}

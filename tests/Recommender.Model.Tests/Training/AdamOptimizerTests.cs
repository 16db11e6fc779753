using Recommender.Model.Sasrec;
using Recommender.Model.Training;

namespace Recommender.Model.Tests.Training;

public sealed class AdamOptimizerTests
{
    private static SasRecModel Model() => new(new SasRecConfig { ItemCount = 5, MaxLength = 4, Dimension = 4, Blocks = 1, FeedForwardDimension = 4 }, seed: 1);

    [Fact]
    public void Two_steps_follow_the_bias_corrected_adam_update_and_leave_the_padding_row_alone()
    {
        var model = Model();
        var optimizer = new AdamOptimizer(model, learningRate: 0.1, beta1: 0.9, beta2: 0.98, epsilon: 1e-8);
        var weight = model.Get("blocks.0.attn.q.weight");
        var items = model.Get("item_emb");
        var w0 = weight.Data[3];
        Array.Fill(items.Grad, 1f);
        weight.Grad[3] = 2f;
        optimizer.Update();
        // First step: m̂ = g, v̂ = g², so the update is lr · sign(g).
        Assert.Equal(w0 - 0.1, weight.Data[3], 5);
        weight.Grad[3] = -1f;
        optimizer.Update();
        double m = 0.9 * (0.1 * 2) + 0.1 * -1, v = 0.98 * (0.02 * 4) + 0.02 * 1;
        var expected = w0 - 0.1 - 0.1 * (m / (1 - 0.81)) / Math.Sqrt(v / (1 - 0.98 * 0.98));
        Assert.Equal(expected, weight.Data[3], 5);
        Assert.All(items.Data.Take(4), value => Assert.Equal(0f, value));
        Assert.Equal(2, optimizer.Step);
    }

    [Fact]
    public void Weight_decay_shrinks_matrices_but_not_norm_gains_or_biases()
    {
        var model = Model();
        var optimizer = new AdamOptimizer(model, learningRate: 0.1, weightDecay: 0.5);
        var weight = model.Get("blocks.0.ffn.fc1.weight");
        var gain = model.Get("blocks.0.ln1.weight");
        var before = weight.Data[0];
        optimizer.Update(); // zero gradients: only the decay acts
        Assert.Equal(before * (1 - 0.05), weight.Data[0], 5);
        Assert.All(gain.Data, value => Assert.Equal(1f, value));
    }
}

using Recommender.Model.Nn;

namespace Recommender.Model.Tests.Nn;

/// <summary>Finite-difference checks of every differentiable operation's backward pass.</summary>
public sealed class LayerTests
{
    [Fact]
    public void Layer_norm_forward_normalises_and_backward_matches_finite_differences()
    {
        const int rows = 3, width = 8;
        var x = GradientCheck.Random(rows * width, 1, 2.0);
        var weight = GradientCheck.Random(width, 2);
        var bias = GradientCheck.Random(width, 3);
        var r = GradientCheck.Random(rows * width, 4);
        double Objective()
        {
            var y = new float[rows * width];
            LayerNorm.Forward(x, rows, width, weight, bias, y, new float[rows * width], new float[rows]);
            return GradientCheck.Weighted(y, r);
        }
        var xhat = new float[rows * width];
        var rstd = new float[rows];
        var output = new float[rows * width];
        LayerNorm.Forward(x, rows, width, weight, bias, output, xhat, rstd);
        for (var row = 0; row < rows; row++)
        {
            var slice = xhat.AsSpan(row * width, width).ToArray();
            Assert.True(Math.Abs(slice.Average()) < 1e-5);
            Assert.True(Math.Abs(slice.Select(v => (double)v * v).Average() - 1) < 1e-3);
        }
        var dx = new float[rows * width];
        var dw = new float[width];
        var db = new float[width];
        LayerNorm.Backward(r, xhat, rstd, rows, width, weight, dx, false, dw, db, new float[width]);
        GradientCheck.AssertMatches("dx", x, dx, Objective);
        GradientCheck.AssertMatches("dweight", weight, dw, Objective);
        GradientCheck.AssertMatches("dbias", bias, db, Objective);
    }

    [Fact]
    public void Linear_backward_matches_finite_differences()
    {
        const int rows = 5, inputs = 6, outputs = 20;
        var x = GradientCheck.Random(rows * inputs, 1);
        var w = GradientCheck.Random(inputs * outputs, 2, 0.5);
        var b = GradientCheck.Random(outputs, 3);
        var r = GradientCheck.Random(rows * outputs, 4);
        double Objective()
        {
            var y = new float[rows * outputs];
            Linear.Forward(x, rows, inputs, w, b, y, outputs);
            return GradientCheck.Weighted(y, r);
        }
        var wt = new float[w.Length];
        Linear.Transpose(w, inputs, outputs, wt);
        var dx = new float[rows * inputs];
        var dw = new float[w.Length];
        var db = new float[outputs];
        Linear.Backward(x, r, rows, inputs, outputs, wt, dx, false, dw, db);
        GradientCheck.AssertMatches("dx", x, dx, Objective);
        GradientCheck.AssertMatches("dW", w, dw, Objective);
        GradientCheck.AssertMatches("db", b, db, Objective);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Activation_backward_matches_finite_differences(bool gelu)
    {
        var x = GradientCheck.Random(40, 7, 2.0);
        // Keep ReLU inputs away from the kink, where the derivative is undefined.
        for (var i = 0; i < x.Length; i++) if (Math.Abs(x[i]) < 0.05f) x[i] = 0.3f;
        var r = GradientCheck.Random(40, 8);
        double Objective()
        {
            var y = new float[x.Length];
            Activation.Forward(gelu, x, y);
            return GradientCheck.Weighted(y, r);
        }
        var dx = new float[x.Length];
        Activation.Backward(gelu, x, r, dx);
        GradientCheck.AssertMatches(gelu ? "gelu" : "relu", x, dx, Objective, epsilon: 1e-3f);
        var y0 = new float[1];
        Activation.Forward(gelu, [1f], y0);
        Assert.Equal(gelu ? 0.841192f : 1f, y0[0], 4);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Activation_matches_its_formula_across_chunks_and_in_place(bool gelu)
    {
        // Long enough for several chunks and a ragged tail of the vectorised loops.
        var x = GradientCheck.Random(1300, 11, 4.0);
        var dy = GradientCheck.Random(1300, 12);
        var y = new float[x.Length];
        Activation.Forward(gelu, x, y);
        var dx = (float[])dy.Clone();
        Activation.Backward(gelu, x, dx, dx);
        const double c = 0.7978845608028654, a = 0.044715;
        for (var i = 0; i < x.Length; i++)
        {
            double v = x[i];
            var t = Math.Tanh(c * (v + a * v * v * v));
            var expectedY = gelu ? 0.5 * v * (1 + t) : Math.Max(v, 0);
            var derivative = gelu ? 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * a * v * v) : v > 0 ? 1 : 0;
            Assert.True(Math.Abs(y[i] - expectedY) <= 1e-5 * (1 + Math.Abs(expectedY)), $"y[{i}] = {y[i]}, expected {expectedY}");
            var expectedDx = derivative * dy[i];
            Assert.True(Math.Abs(dx[i] - expectedDx) <= 1e-5 * (1 + Math.Abs(expectedDx)), $"dx[{i}] = {dx[i]}, expected {expectedDx}");
        }
    }

    [Fact]
    public void SwiGlu_matches_its_formula_and_its_backward_matches_finite_differences()
    {
        const int rows = 3, width = 5;
        var x = GradientCheck.Random(rows * 2 * width, 13, 3.0);
        var r = GradientCheck.Random(rows * width, 14);
        var y = new float[rows * width];
        SwiGlu.Forward(x, rows, width, y);
        for (var t = 0; t < rows; t++)
            for (var j = 0; j < width; j++)
            {
                double a = x[t * 2 * width + j], b = x[t * 2 * width + width + j];
                var expected = a * b / (1 + Math.Exp(-b));
                Assert.True(Math.Abs(y[t * width + j] - expected) <= 1e-5 * (1 + Math.Abs(expected)), $"y[{t}, {j}] = {y[t * width + j]}, expected {expected}");
            }
        double Objective()
        {
            var output = new float[rows * width];
            SwiGlu.Forward(x, rows, width, output);
            return GradientCheck.Weighted(output, r);
        }
        var dx = new float[x.Length];
        SwiGlu.Backward(x, r, rows, width, dx);
        GradientCheck.AssertMatches("swiglu", x, dx, Objective, epsilon: 1e-3f);
    }

    [Fact]
    public void Dropout_keeps_the_expected_fraction_scales_kept_units_and_routes_gradients_through_the_mask()
    {
        var x = Enumerable.Repeat(1f, 20000).ToArray();
        var mask = new float[x.Length];
        var rng = SplitMix.For(3);
        Dropout.Apply(x, mask, 0.25f, ref rng);
        var dropped = x.Count(v => v == 0f);
        Assert.InRange(dropped / (double)x.Length, 0.23, 0.27);
        Assert.All(x, v => Assert.True(v == 0f || Math.Abs(v - 1f / 0.75f) < 1e-6));
        var grad = Enumerable.Repeat(2f, x.Length).ToArray();
        Dropout.Backward(grad, mask);
        for (var i = 0; i < x.Length; i++) Assert.Equal(2f * x[i], grad[i], 5);
        var again = Enumerable.Repeat(1f, 20000).ToArray();
        var rng2 = SplitMix.For(3);
        Dropout.Apply(again, new float[again.Length], 0.25f, ref rng2);
        Assert.Equal(x, again);
    }
}

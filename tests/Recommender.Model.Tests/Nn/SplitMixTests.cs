using Recommender.Model.Nn;

namespace Recommender.Model.Tests.Nn;

public sealed class SplitMixTests
{
    // Lengths around the sixteen-wide step and its remainder, and long spans.
    public static TheoryData<int> Lengths => [0, 1, 7, 15, 16, 17, 31, 32, 33, 1000, 4099];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Drawing_a_span_at_once_gives_the_draws_one_at_a_time_and_leaves_the_same_state(int length)
    {
        var batched = SplitMix.For(3, length, 9);
        var single = batched;
        var values = new float[length];
        batched.NextFloats(values);
        for (var i = 0; i < length; i++) Assert.Equal(single.NextFloat(), values[i]);
        Assert.Equal(single.NextUInt64(), batched.NextUInt64());
    }

    [Fact]
    public void Draws_are_uniform_in_the_unit_interval()
    {
        var rng = SplitMix.For(11);
        var values = new float[100_000];
        rng.NextFloats(values);
        Assert.All(values, v => Assert.InRange(v, 0f, 1f - 1f / (1 << 24)));
        Assert.InRange(values.Average(), 0.497, 0.503);
        Assert.InRange(values.Count(v => v < 0.2f) / (double)values.Length, 0.196, 0.204);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Dropout_mask_drops_exactly_the_units_whose_draw_falls_below_the_rate(int length)
    {
        const float rate = 0.3f, keep = 1f / (1f - rate);
        var rng = SplitMix.For(5, length);
        var reference = rng;
        var mask = new float[length];
        Dropout.Fill(mask, rate, ref rng);
        for (var i = 0; i < length; i++) Assert.Equal(reference.NextFloat() < rate ? 0f : keep, mask[i]);
        Assert.Equal(reference.NextUInt64(), rng.NextUInt64());
    }
}

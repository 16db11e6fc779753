using Recommender.Model.Nn;

namespace Recommender.Model.Tests.Training;

/// <summary>Synthetic sequences with a planted next-item rule that a short training run must learn.</summary>
internal static class PlantedRule
{
    /// <summary>Item i is always followed by item i mod <paramref name="items"/> + 1; sequences start anywhere and have 3..12 events.</summary>
    public static List<int[]> Sequences(int items, int users, int seed)
    {
        var rng = SplitMix.For(seed);
        var result = new List<int[]>();
        for (var u = 0; u < users; u++)
        {
            var start = 1 + rng.NextInt(items);
            var length = 3 + rng.NextInt(10);
            result.Add(Enumerable.Range(0, length).Select(t => (start - 1 + t) % items + 1).ToArray());
        }
        return result;
    }
}

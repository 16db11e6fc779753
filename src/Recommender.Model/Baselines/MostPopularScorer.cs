using Recommender.Model.Data;
using Recommender.Model.Evaluation;

namespace Recommender.Model.Baselines;

/// <summary>Scores every item by its interaction count in the training data, whatever the history.</summary>
public sealed class MostPopularScorer : INextItemScorer
{
    private readonly float[] _counts;

    public MostPopularScorer(SequenceDataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        _counts = ItemCounts(train);
    }

    public string Name => "most-popular";

    public int ItemCount => _counts.Length;

    public float[] Score(IReadOnlyList<int[]> histories)
    {
        var scores = new float[histories.Count * ItemCount];
        for (var b = 0; b < histories.Count; b++) _counts.CopyTo(scores, b * ItemCount);
        return scores;
    }

    internal static float[] ItemCounts(SequenceDataset train)
    {
        var counts = new float[train.ItemCount];
        foreach (var sequence in train.Sequences)
            foreach (var item in sequence) counts[item - 1]++;
        return counts;
    }
}

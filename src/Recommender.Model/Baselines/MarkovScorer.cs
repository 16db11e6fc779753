using Recommender.Model.Data;
using Recommender.Model.Evaluation;

namespace Recommender.Model.Baselines;

/// <summary>
/// First-order Markov chain: the score of item j is the number of training transitions from the history's last
/// item to j, with ties (and items never seen after it) ordered by popularity.
/// </summary>
public sealed class MarkovScorer : INextItemScorer
{
    private readonly float[] _popularity;
    private readonly Dictionary<int, (int[] Next, float[] Count)> _transitions = [];

    public MarkovScorer(SequenceDataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        var counts = MostPopularScorer.ItemCounts(train);
        // Popularity scaled into [0, 1) only breaks ties between equal transition counts.
        var max = counts.Length == 0 ? 0 : counts.Max();
        _popularity = counts.Select(c => c / (max + 1)).ToArray();
        var pairs = new Dictionary<long, int>();
        foreach (var sequence in train.Sequences)
            for (var t = 1; t < sequence.Length; t++)
            {
                var key = ((long)sequence[t - 1] << 32) | (uint)sequence[t];
                pairs[key] = pairs.GetValueOrDefault(key) + 1;
            }
        foreach (var group in pairs.GroupBy(p => (int)(p.Key >> 32)))
            _transitions[group.Key] = (group.Select(p => (int)(p.Key & 0xFFFFFFFF)).ToArray(), group.Select(p => (float)p.Value).ToArray());
    }

    public string Name => "markov";

    public int ItemCount => _popularity.Length;

    public float[] Score(IReadOnlyList<int[]> histories)
    {
        var scores = new float[histories.Count * ItemCount];
        for (var b = 0; b < histories.Count; b++)
        {
            var row = scores.AsSpan(b * ItemCount, ItemCount);
            _popularity.CopyTo(row);
            var history = histories[b];
            if (history.Length == 0 || !_transitions.TryGetValue(history[^1], out var next)) continue;
            for (var k = 0; k < next.Next.Length; k++) row[next.Next[k] - 1] += next.Count[k];
        }
        return scores;
    }
}

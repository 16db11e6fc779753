namespace Recommender.Model.Evaluation;

/// <summary>Anything that scores every catalogue item as the next item of a history: a packaged encoder or a baseline.</summary>
public interface INextItemScorer
{
    /// <summary>Display name in reports.</summary>
    string Name { get; }

    int ItemCount { get; }

    /// <summary>Row-major [histories.Count, ItemCount]: column j scores dense item j + 1; higher is better.</summary>
    float[] Score(IReadOnlyList<int[]> histories);
}

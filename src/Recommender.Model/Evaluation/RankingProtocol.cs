namespace Recommender.Model.Evaluation;

public enum RankingProtocol
{
    /// <summary>Rank the target among all items, the history's items removed (gSASRec).</summary>
    Full,

    /// <summary>Rank the target among 100 random items the user has not interacted with (SASRec paper).</summary>
    Sampled,
}

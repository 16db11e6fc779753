namespace Recommender.Cluster.Tests.Serving;

// The registry's JSON as a client reads it.
public sealed record ModelReply(string Version, string Kind, int Dimension, int MaxLength, string Similarity, int ItemCount, string State,
    DateTimeOffset RegisteredAt, DateTimeOffset? ActivatedAt, bool Fallback, Dictionary<string, double>? Metrics = null, DateTimeOffset? RetiredAt = null);

public sealed record ModelsReply(string? Active, List<ModelReply> Models, string? RollbackTarget = null,
    string? Candidate = null, double? CandidateShare = null, DateTimeOffset? CandidateSince = null);

public sealed record CandidateReply(string Candidate, double Share, string Active, int Shards, int CarriedItems, List<string> NotRecommendable, int NotInCatalogue);

public sealed record ActivationReply(string Active, string? Previous, int Shards, int CarriedItems, List<string> NotRecommendable, int NotInCatalogue = -1);

public sealed record CandidateResultsReply(string Candidate, string Control, DateTimeOffset Since, bool Running, double? Share,
    ArmReply CandidateArm, ArmReply ControlArm, RateComparisonReply? HitRate, RateComparisonReply? MeanReciprocalRank, RateComparisonReply? DismissalsPerList,
    RateComparisonReply? PurchasesPerList, SampleRatioReply? SampleRatio, RateComparisonReply? RevenuePerList, ScenarioResultsReply[] Scenarios);

public sealed record ScenarioResultsReply(string Scenario, ArmReply CandidateArm, ArmReply ControlArm, RateComparisonReply? HitRate, RateComparisonReply? MeanReciprocalRank,
    RateComparisonReply? DismissalsPerList, RateComparisonReply? PurchasesPerList, RateComparisonReply? RevenuePerList);

public sealed record ArmReply(long NextEvents, long Hits, double? HitRate, double? MeanReciprocalRank, long Lists, long Dismissals, double? DismissalsPerList, long? Users,
    long Purchases, double? PurchasesPerList, double Revenue, double? RevenuePerList);

public sealed record SampleRatioReply(long CandidateUsers, long ControlUsers, double ExpectedShare, double ObservedShare, double PValue, bool Mismatch);

public sealed record RateComparisonReply(double Candidate, double Control, double Difference, double? RelativeDifference, double Low, double High, double PValue,
    double MinimumDetectableDifference, double? SequentialPValue, double? SequentialLow, double? SequentialHigh);

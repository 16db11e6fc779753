namespace Recommender.Model.Data;

/// <summary>One leave-one-out test case: a user's chronological history (dense ids) and the next item to predict.</summary>
public sealed record EvaluationCase(int[] History, int Target);

namespace Recommender.Model.Data;

/// <summary>
/// The SASRec leave-one-out split: each user's last item is the test target, the one before it the validation
/// target, and the rest is training data. Users with fewer than three items keep everything for training. Without a
/// test set (<see cref="HasTest"/> false) the last item is the validation target and the rest training data, users
/// with fewer than two items training only: what a model trained to serve needs, which then learns from all but one
/// item of each history instead of all but two.
/// </summary>
public sealed record LeaveOneOutSplit(SequenceDataset Train, IReadOnlyList<EvaluationCase> Validation, IReadOnlyList<EvaluationCase> Test, bool HasTest = true)
{
    public static LeaveOneOutSplit Create(SequenceDataset data, bool withTest = true)
    {
        ArgumentNullException.ThrowIfNull(data);
        var heldOut = withTest ? 2 : 1;
        var train = new List<int[]>(data.UserCount);
        var validation = new List<EvaluationCase>();
        var test = new List<EvaluationCase>();
        foreach (var sequence in data.Sequences)
        {
            if (sequence.Length <= heldOut)
            {
                train.Add(sequence);
                continue;
            }
            train.Add(sequence[..^heldOut]);
            validation.Add(new EvaluationCase(sequence[..^heldOut], sequence[^heldOut]));
            if (withTest) test.Add(new EvaluationCase(sequence[..^1], sequence[^1]));
        }
        return new LeaveOneOutSplit(new SequenceDataset(train, data.ItemIds, data.UserIds), validation, test, withTest);
    }
}

namespace Recommender.Model.Data;

/// <summary>
/// The SASRec leave-one-out split: each user's last item is the test target, the one before it the validation
/// target, and the rest is training data. Users with fewer than three items keep everything for training.
/// </summary>
public sealed record LeaveOneOutSplit(SequenceDataset Train, IReadOnlyList<EvaluationCase> Validation, IReadOnlyList<EvaluationCase> Test)
{
    public static LeaveOneOutSplit Create(SequenceDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var train = new List<int[]>(data.UserCount);
        var validation = new List<EvaluationCase>();
        var test = new List<EvaluationCase>();
        foreach (var sequence in data.Sequences)
        {
            if (sequence.Length < 3)
            {
                train.Add(sequence);
                continue;
            }
            train.Add(sequence[..^2]);
            validation.Add(new EvaluationCase(sequence[..^2], sequence[^2]));
            test.Add(new EvaluationCase(sequence[..^1], sequence[^1]));
        }
        return new LeaveOneOutSplit(new SequenceDataset(train, data.ItemIds, data.UserIds), validation, test);
    }
}

namespace Recommender.Model.Training;

/// <summary>One finished epoch: mean training loss, validation metrics when validated, and wall seconds.</summary>
public sealed record EpochRecord(int Epoch, double Loss, double? ValidationNdcg10, double? ValidationHr10, double Seconds, double PositionsPerSecond);

/// <summary>
/// Reported after every optimiser step (<see cref="Completed"/> null) and at the end of every epoch.
/// <see cref="Eta"/> is the time left in the current epoch.
/// </summary>
public sealed record TrainingProgress(
    int Epoch,
    int Epochs,
    int Batch,
    int Batches,
    double Loss,
    double PositionsPerSecond,
    TimeSpan Eta,
    EpochRecord? Completed = null);

public enum TrainingOutcome
{
    /// <summary>All epochs ran.</summary>
    Completed,

    /// <summary>Validation NDCG@10 stopped improving for Patience validations.</summary>
    EarlyStopped,

    /// <summary>The wall-time limit was reached.</summary>
    TimeLimit,

    /// <summary>A NaN or infinite loss: training stopped and the last good checkpoint was kept.</summary>
    Diverged,

    /// <summary>Cancelled (Ctrl+C, SIGTERM) at a step boundary: the checkpoint of the last completed epoch is kept.</summary>
    Interrupted,
}

/// <summary>How a run ended, with the epoch and validation NDCG@10 of the best model.</summary>
public sealed record TrainingResult(TrainingOutcome Outcome, string Message, int EpochsRun, int BestEpoch, double? BestValidationNdcg10, IReadOnlyList<EpochRecord> Curve);

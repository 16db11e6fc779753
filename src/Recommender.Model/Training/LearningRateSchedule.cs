namespace Recommender.Model.Training;

/// <summary>How the learning rate moves over a run.</summary>
public enum LearningRateSchedule
{
    /// <summary>The full rate throughout, or a step down after TrainingOptions.LearningRateDecayEpoch.</summary>
    Constant,

    /// <summary>
    /// Half a cosine from the full rate to zero over the run. The run's length is whichever ends it first: its
    /// epochs, or its time limit as measured by the clock, so a time-limited run anneals fully however fast the
    /// machine is (at the price of steps that depend on the clock).
    /// </summary>
    Cosine,
}

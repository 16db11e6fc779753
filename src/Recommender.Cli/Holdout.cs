using System.Globalization;
using System.Text.RegularExpressions;
using Recommender.Model.Data;
using Recommender.Model.Evaluation;
using Recommender.Model.Packaging;

namespace Recommender.Cli;

/// <summary>
/// publish --holdout: a split's validation cases, on which a new package and the active version are scored alike
/// (<see cref="HoldoutScore"/>), and where the cluster keeps the active version's package.
/// </summary>
internal sealed partial class Holdout(string directory, List<EvaluationCase> cases, IReadOnlyList<string> ids, string modelsDirectory, bool ndcg, int cutoff)
{
    public string Directory { get; } = directory;

    public int Count => cases.Count;

    /// <summary>The split in <paramref name="directory"/>, checked before anything is sent.</summary>
    public static Holdout Open(string directory, string? metric, string? models)
    {
        if (metric is null) throw new ArgumentException("--holdout scores the package and the active version for --compare-with-active: give that too.");
        var match = MetricName().Match(metric);
        if (!match.Success)
            throw new ArgumentException($"--compare-with-active '{metric}' is not a metric --holdout can score: ndcg@K or hr@K (recall@K), with or without val_, e.g. val_ndcg@10.");
        if (models is null) throw new ArgumentException("--holdout needs --models-directory, the cluster's models directory where the active version's package is (or --incoming-directory inside it).");
        var validation = CommandErrors.ReadCases(Path.Combine(directory, "val", "input.txt"), Path.Combine(directory, "val", "output.txt"));
        var itemIds = ItemIdFile.Read(Path.Combine(directory, SplitFiles.ItemsFile), null, "--holdout");
        return new Holdout(directory, validation, itemIds, models, match.Groups["kind"].Value == "ndcg", int.Parse(match.Groups["k"].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// The package of a registered version, from the cluster's models directory (which a cluster without a model yet
    /// may not have: it is read only when a version is active).
    /// </summary>
    public ModelPackage Load(string version) =>
        System.IO.Directory.Exists(Path.Combine(modelsDirectory, version)) ? ModelPackage.Load(Path.Combine(modelsDirectory, version))
            : throw new DirectoryNotFoundException($"The active version {version} has no package in --models-directory {modelsDirectory}: give the cluster's models directory ({{DataDirectory}}/models).");

    /// <summary>The metric of <paramref name="package"/> on the cases, and how many of them name items it does not know.</summary>
    public (double Value, int Unknown) Score(ModelPackage package)
    {
        var (metrics, unknown) = HoldoutScore.Evaluate(package, cases, ids, Environment.ProcessorCount, cutoff);
        return (ndcg ? metrics.Ndcg(cutoff) : metrics.HitRate(cutoff), unknown);
    }

    [GeneratedRegex(@"^(?:val_)?(?<kind>ndcg|hr|recall)@(?<k>[1-9][0-9]{0,3})$")]
    private static partial Regex MetricName();
}

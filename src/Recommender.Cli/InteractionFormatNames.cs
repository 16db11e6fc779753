using Recommender.Model.Data;

namespace Recommender.Cli;

/// <summary>The --format names of the interaction files the commands read.</summary>
internal static class InteractionFormatNames
{
    public static readonly IReadOnlyDictionary<string, InteractionFormat> All = new Dictionary<string, InteractionFormat>
    {
        ["sequences"] = InteractionFormat.Sequences,
        ["pairs"] = InteractionFormat.Pairs,
        ["movielens-csv"] = InteractionFormat.MovieLensCsv,
        ["movielens-udata"] = InteractionFormat.MovieLensUData,
        ["event-export"] = InteractionFormat.EventExport,
    };
}

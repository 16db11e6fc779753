using System.Globalization;
using System.Text;

namespace Recommender.Model.Training;

/// <summary>The per-epoch training curve as CSV and as a plot of loss and validation NDCG@10.</summary>
public static class TrainingCurve
{
    public const string CsvHeader = "epoch,loss,val_ndcg10,val_hr10,seconds";

    public static void WriteCsv(string path, IReadOnlyList<EpochRecord> curve)
    {
        var text = new StringBuilder(CsvHeader).Append('\n');
        foreach (var r in curve)
            text.Append(CultureInfo.InvariantCulture, $"{r.Epoch},{r.Loss:R},{Format(r.ValidationNdcg10)},{Format(r.ValidationHr10)},{r.Seconds:F3}\n");
        File.WriteAllText(path, text.ToString());

        static string Format(double? value) => value is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "";
    }

    public static void WritePng(string path, IReadOnlyList<EpochRecord> curve, int width = 900, int height = 500)
    {
        var plot = new ScottPlot.Plot();
        if (curve.Count > 0)
        {
            var loss = plot.Add.Scatter(curve.Select(r => (double)r.Epoch).ToArray(), curve.Select(r => r.Loss).ToArray());
            loss.LegendText = "training loss";
            var validated = curve.Where(r => r.ValidationNdcg10 is not null).ToArray();
            if (validated.Length > 0)
            {
                var ndcg = plot.Add.Scatter(validated.Select(r => (double)r.Epoch).ToArray(), validated.Select(r => r.ValidationNdcg10!.Value).ToArray());
                ndcg.LegendText = "validation NDCG@10";
                ndcg.Axes.YAxis = plot.Axes.Right;
                plot.Axes.Right.Label.Text = "validation NDCG@10";
            }
            plot.ShowLegend();
        }
        plot.Axes.Bottom.Label.Text = "epoch";
        plot.Axes.Left.Label.Text = "training loss";
        plot.Title("SASRec training curve");
        plot.SavePng(path, width, height);
    }
}

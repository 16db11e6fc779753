using System.CommandLine;
using Recommender.Model.Packaging;
using Recommender.Model.Sasrec;
using Recommender.Model.Text;

namespace Recommender.Cli;

/// <summary>The train command's item-text options: which item representation to learn and where the frozen text vectors come from.</summary>
internal static class TrainItemText
{
    public static Option<string> RepresentationOption()
    {
        var option = new Option<string>("--item-text")
        {
            Description = "Item representation: id (a learned row per item), text (a learned projection of the item's frozen text vector) or id+text (their sum).",
            DefaultValueFactory = _ => ItemRepresentations.Id,
        };
        option.AcceptOnlyFromAmong([.. ItemRepresentations.All]);
        return option;
    }

    public static Option<string?> FileOption() => new("--item-text-file")
    {
        Description = "Frozen item text vectors keyed by external item id (#text-vectors file, e.g. from evaluate-cold-start's cache); needed for text and id+text.",
    };

    public static Option<float> IdDropoutOption() => new("--item-id-dropout")
    {
        Description = "id+text only: chance per training step that an item's id row is left out so its text alone represents it (helps rank new items).",
        DefaultValueFactory = _ => 0f,
    };

    /// <summary>
    /// The configuration with its text fields set and the text vectors of <paramref name="itemIds"/> (dense order), or the
    /// configuration unchanged for "id"; <c>Note</c> reports items without a vector.
    /// </summary>
    public static (SasRecConfig Config, float[]? ItemText, string? Note) Apply(SasRecConfig config, string representation, string? file, float idDropout, IReadOnlyList<string> itemIds)
    {
        if (idDropout != 0 && representation != ItemRepresentations.IdAndText) throw new ArgumentException("--item-id-dropout is only used with --item-text id+text.");
        if (!ItemRepresentations.UsesText(representation))
        {
            if (file is not null) throw new ArgumentException("--item-text-file is only used with --item-text text or id+text.");
            return (config, null, null);
        }
        if (file is null) throw new ArgumentException($"--item-text {representation} needs --item-text-file.");
        var vectors = TextVectorFile.Read(file);
        var itemText = vectors.ForItems(itemIds, out var missing);
        if (missing == itemIds.Count) throw new ArgumentException($"None of the {itemIds.Count} training items has a vector in '{file}': the item ids do not match.");
        var withText = config with
        {
            ItemRepresentation = representation,
            TextDimension = vectors.Dimension,
            TextEncoder = vectors.Encoder,
            TextTemplate = vectors.Template,
            ItemIdDropout = idDropout,
        };
        var note = missing == 0 ? null : $"{missing} of {itemIds.Count} items have no text vector in '{file}'; their text part is zero.";
        return (withText, itemText, note);
    }
}

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
    /// configuration unchanged for "id"; <c>Note</c> reports items without a vector. <paramref name="itemIds"/> are the
    /// ids the training file names its items by; <paramref name="packageIds"/>, when --item-ids renames them for the
    /// package, are the catalogue's: a file keyed by those is refused rather than read under the wrong keys (numeric
    /// catalogue ids would otherwise find the vectors of other items).
    /// </summary>
    public static (SasRecConfig Config, float[]? ItemText, string? Note) Apply(SasRecConfig config, string representation, string? file, float idDropout, IReadOnlyList<string> itemIds,
        IReadOnlyList<string>? packageIds = null)
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
        if (packageIds is not null)
        {
            // Counted, not gathered: the vectors themselves are only wanted under the training file's ids.
            var foundByCatalogueId = packageIds.Count(vectors.Vectors.ContainsKey);
            if (foundByCatalogueId > itemIds.Count - missing)
                throw new ArgumentException($"'{file}' is keyed by the catalogue's item ids ({foundByCatalogueId} of {itemIds.Count} items found that way, " +
                    $"{itemIds.Count - missing} by dense id), but the training file names items by dense id: give the text vectors re-keyed by split " +
                    "(its text-vectors.tsv, written with split --text-vectors).");
        }
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

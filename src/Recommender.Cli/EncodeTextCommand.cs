using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Recommender.Model.Text;

namespace Recommender.Cli;

/// <summary>
/// recommender encode-text: composes each item's text (a catalogue file's title, text and tags, as the cluster composes
/// them, or a MovieLens movie's title, genres and tags) and encodes it with the frozen sentence encoder into a
/// #text-vectors file, the input of train --item-text-file; reports the encoding throughput. With --reuse, the texts an
/// earlier file holds keep their vectors and only new and changed ones are encoded.
/// </summary>
internal static class EncodeTextCommand
{
    public static Command Create()
    {
        var items = new Option<string?>("--items") { Description = "A catalogue file of JSON lines, each an item as POST /items and import-items take it (id, title, text, tags)." };
        var movies = new Option<string?>("--movies") { Description = "MovieLens movies.csv (movieId,title,genres), instead of --items." };
        var tags = new Option<string?>("--tags") { Description = "MovieLens tags.csv (userId,movieId,tag,timestamp), optional, with --movies." };
        var output = new Option<string>("--out") { Description = "The #text-vectors file to write.", Required = true };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads of the encoder.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var reuse = new Option<string?>("--reuse")
        {
            Description = "A text-vector file an earlier encode-text wrote (it may be --out itself): every text it holds keeps its vector, and only new and changed texts are encoded.",
        };
        var command = new Command("encode-text", $"Encode item texts (a catalogue file's or MovieLens movies') with {SentenceTextEncoder.ModelName} into a text-vector file.") { items, movies, tags, output, threads, reuse };
        command.SetAction(parse => CommandErrors.Guard(parse, () =>
        {
            var path = parse.GetValue(output)!;
            CommandErrors.CheckFileTarget(path, "--out");
            var threadCount = CommandErrors.ThreadCount(parse, threads);
            var (catalogue, movieFile, tagFile) = (parse.GetValue(items), parse.GetValue(movies), parse.GetValue(tags));
            if ((catalogue is null) == (movieFile is null)) throw new ArgumentException("Give the items to encode with either --items or --movies.");
            if (tagFile is not null && movieFile is null) throw new ArgumentException("--tags is MovieLens tags.csv and goes with --movies; a catalogue file's items carry their own tags.");
            var texts = catalogue is not null ? CatalogueText.Compose(catalogue) : MovieLensText.Compose(movieFile!, tagFile);
            if (texts.Count == 0) throw new FormatException($"{catalogue ?? movieFile} lists no items: there is nothing to encode.");
            var previous = parse.GetValue(reuse) is { } reusePath ? TextVectorFile.Read(reusePath) : null;
            var watch = Stopwatch.StartNew();
            var (vectors, encoded, reused) = IncrementalTextEncoding.Encode(texts, previous, parse.GetValue(reuse) ?? "", () => new SentenceTextEncoder(threadCount));
            var seconds = Math.Max(watch.Elapsed.TotalSeconds, 1e-3);
            TextVectorFile.Write(path, vectors, MovieLensText.Fingerprint(texts));
            // Plain output: a console would wrap the paths.
            parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"encoded {encoded} items in {seconds:F1} s: {encoded / seconds:F0} items/s (batches of {SentenceTextEncoder.BatchSize}, {threadCount} threads); ") +
                (previous is null ? "" : $"reused {reused} from {parse.GetValue(reuse)}; ") + $"wrote {path}");
            return 0;
        }));
        return command;
    }
}

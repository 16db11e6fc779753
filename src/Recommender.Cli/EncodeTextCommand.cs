using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Recommender.Model.Text;
using Spectre.Console;

namespace Recommender.Cli;

/// <summary>
/// recommender encode-text: composes each MovieLens movie's text (title, genres, tags) and encodes it with the frozen
/// sentence encoder into a #text-vectors file, the input of train --item-text-file; reports the encoding throughput.
/// </summary>
internal static class EncodeTextCommand
{
    public static Command Create()
    {
        var movies = new Option<string>("--movies") { Description = "MovieLens movies.csv (movieId,title,genres).", Required = true };
        var tags = new Option<string?>("--tags") { Description = "MovieLens tags.csv (userId,movieId,tag,timestamp), optional." };
        var output = new Option<string>("--out") { Description = "The #text-vectors file to write.", Required = true };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads of the encoder.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("encode-text", $"Encode MovieLens item texts with {SentenceTextEncoder.ModelName} into a text-vector file.") { movies, tags, output, threads };
        command.SetAction(parse => CommandErrors.Run(parse, console =>
        {
            var path = parse.GetValue(output)!;
            CommandErrors.CheckFileTarget(path, "--out");
            var threadCount = CommandErrors.ThreadCount(parse, threads);
            var texts = MovieLensText.Compose(parse.GetValue(movies)!, parse.GetValue(tags));
            if (texts.Count == 0) throw new FormatException($"{parse.GetValue(movies)} lists no movies: there is nothing to encode.");
            using var encoder = new SentenceTextEncoder(threadCount);
            var watch = Stopwatch.StartNew();
            var vectors = MovieLensText.Encode(texts, encoder);
            var seconds = watch.Elapsed.TotalSeconds;
            TextVectorFile.Write(path, vectors, MovieLensText.Fingerprint(texts));
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"encoded {texts.Count} items in {seconds:F1} s: {texts.Count / seconds:F0} items/s (batches of {SentenceTextEncoder.BatchSize}, {threadCount} threads); wrote {path}"));
            return 0;
        }));
        return command;
    }
}

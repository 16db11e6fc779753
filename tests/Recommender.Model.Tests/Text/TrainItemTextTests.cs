using Recommender.Cli;
using Recommender.Model.Packaging;
using Recommender.Model.Tests.Data;
using Recommender.Model.Text;

namespace Recommender.Model.Tests.Text;

public sealed class TrainItemTextTests : IDisposable
{
    private readonly string _directory = SharedData.TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static (int Exit, string Output, string Error) Invoke(params string[] args) =>
        CommandRunner.Run(TrainCommand.Create(), args);

    private (string Train, string Vectors) Files(int dimension = 6)
    {
        var train = Path.Combine(_directory, "train.txt");
        File.WriteAllLines(train, Enumerable.Range(0, 30).Select(u => string.Join(' ', Enumerable.Range(0, 4 + u % 5).Select(t => (u + t) % 12 + 1))));
        // Items 1..11 have vectors; item 12 has none and gets a zero text part.
        var vectors = Enumerable.Range(1, 11).ToDictionary(i => i.ToString(), i => Enumerable.Range(0, dimension).Select(k => MathF.Sin(i * 3 + k)).ToArray());
        var path = Path.Combine(_directory, "vectors.tsv");
        TextVectorFile.Write(path, new TextVectors("test-encoder", dimension, ItemText.Template, vectors));
        return (train, path);
    }

    [Fact]
    public void Train_with_item_text_exports_a_package_with_its_projection()
    {
        var (train, vectors) = Files();
        var package = Path.Combine(_directory, "package");
        var (exit, output, error) = Invoke("--train", train, "--out", Path.Combine(_directory, "run"), "--item-text", "id+text", "--item-text-file", vectors,
            "--dim", "8", "--max-length", "6", "--blocks", "1", "--epochs", "2", "--batch-size", "8", "--threads", "2", "--no-validation", "--export", package, "--version", "text-1");
        Assert.True(exit == 0, error);
        Assert.Contains("1 of 12 items have no text vector", output);
        var loaded = ModelPackage.Load(package);
        Assert.Equal(ItemRepresentations.IdAndText, loaded.Manifest.ItemRepresentation);
        Assert.Equal("test-encoder", loaded.Manifest.TextEncoder);
        Assert.Equal(6, loaded.Manifest.TextDimension);
        Assert.True(loaded.HasTextProjection);
        using var projection = new TextProjectionSession(package);
        Assert.Equal(8, projection.Project(new float[6], 1).Length);
    }

    [Fact]
    public void Encode_text_writes_the_vectors_that_train_reads()
    {
        var movies = Path.Combine(_directory, "movies.csv");
        File.WriteAllLines(movies, ["movieId,title,genres", .. Enumerable.Range(1, 12).Select(i => $"{i},Film {i} (2000),{(i % 2 == 0 ? "Comedy" : "Horror")}")]);
        var vectors = Path.Combine(_directory, "minilm-vectors.tsv");
        var (exit, output, error) = CommandRunner.Run(EncodeTextCommand.Create(), "--movies", movies, "--out", vectors, "--threads", "1");
        Assert.True(exit == 0, error);
        Assert.Contains("encoded 12 items", output);
        Assert.Contains("items/s", output);
        var read = TextVectorFile.Read(vectors);
        Assert.Equal(SentenceTextEncoder.ModelName, read.Encoder);
        Assert.Equal(ItemText.Template, read.Template);
        Assert.Equal(12, read.Vectors.Count);

        var (train, _) = Files();
        var package = Path.Combine(_directory, "package");
        var trained = Invoke("--train", train, "--out", Path.Combine(_directory, "run"), "--item-text", "text", "--item-text-file", vectors,
            "--dim", "8", "--max-length", "6", "--blocks", "1", "--epochs", "1", "--threads", "2", "--no-validation", "--export", package, "--version", "text-2");
        Assert.True(trained.Exit == 0, trained.Error);
        var manifest = ModelPackage.Load(package).Manifest;
        Assert.Equal((ItemRepresentations.Text, SentenceTextEncoder.ModelName, SentenceTextEncoder.Dimension), (manifest.ItemRepresentation, manifest.TextEncoder, manifest.TextDimension));
    }

    [Fact]
    public void Text_options_that_do_not_fit_are_rejected_by_name()
    {
        var (train, vectors) = Files();
        string[] common = ["--train", train, "--out", Path.Combine(_directory, "run"), "--dim", "8", "--max-length", "6", "--blocks", "1", "--epochs", "1", "--no-validation"];
        var noFile = Invoke([.. common, "--item-text", "text"]);
        Assert.Equal(1, noFile.Exit);
        Assert.Contains("--item-text text needs --item-text-file", noFile.Error);
        var fileWithoutText = Invoke([.. common, "--item-text-file", vectors]);
        Assert.Equal(1, fileWithoutText.Exit);
        Assert.Contains("only used with --item-text text or id+text", fileWithoutText.Error);
        var missing = Path.Combine(_directory, "none.tsv");
        var missingFile = Invoke([.. common, "--item-text", "text", "--item-text-file", missing]);
        Assert.Equal(1, missingFile.Exit);
        Assert.Contains(missing, missingFile.Error);
        var other = Path.Combine(_directory, "other.tsv");
        TextVectorFile.Write(other, new TextVectors("e", 2, null, new Dictionary<string, float[]> { ["x"] = [1f, 0f] }));
        var noMatch = Invoke([.. common, "--item-text", "text", "--item-text-file", other]);
        Assert.Equal(1, noMatch.Exit);
        Assert.Contains("None of the 12 training items has a vector", noMatch.Error);
    }
}

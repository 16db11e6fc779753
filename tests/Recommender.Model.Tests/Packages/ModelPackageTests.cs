using Recommender.Model.Packaging;

namespace Recommender.Model.Tests.Packages;

/// <summary>A package refuses a manifest that could not be stored or served safely.</summary>
public sealed class ModelPackageTests
{
    private static ModelManifest Manifest(string version) => new()
    {
        Version = version,
        Kind = "test",
        Dimension = 2,
        MaxLength = 4,
        ItemIds = ["a", "b"],
    };

    private static ModelPackage Create(ModelManifest manifest) => new(manifest, [1], [1, 0, 0, 1]);

    [Theory]
    [InlineData("v1")]
    [InlineData("sasrec-ml1m_2026.11.29")]
    [InlineData("1.0")]
    public void Plain_file_names_are_valid_versions(string version)
    {
        Assert.True(ModelPackage.IsValidVersion(version));
        Assert.Equal(version, Create(Manifest(version)).Manifest.Version);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData(".hidden")]
    [InlineData("-flag")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("")]
    public void Names_that_are_not_plain_file_names_are_refused(string version)
    {
        Assert.False(ModelPackage.IsValidVersion(version));
        var error = Assert.Throws<InvalidDataException>(() => Create(Manifest(version)));
        Assert.Contains("version", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_version_of_101_characters_is_refused() =>
        Assert.False(ModelPackage.IsValidVersion(new string('v', 101)));

    [Fact]
    public void A_missing_version_or_kind_is_named()
    {
        Assert.Contains("no version", Assert.Throws<InvalidDataException>(() => Create(Manifest("v") with { Version = null! })).Message);
        Assert.Contains("no kind", Assert.Throws<InvalidDataException>(() => Create(Manifest("v") with { Kind = " " })).Message);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_non_finite_metric_is_named(double value)
    {
        var error = Assert.Throws<InvalidDataException>(() => Create(Manifest("v") with { Metrics = new Dictionary<string, double> { ["val NDCG@10"] = value } }));
        Assert.Contains("val NDCG@10", error.Message);
    }
}

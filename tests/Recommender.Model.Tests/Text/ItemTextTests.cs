using Recommender.Model.Text;

namespace Recommender.Model.Tests.Text;

public sealed class ItemTextTests
{
    [Fact]
    public void Composes_title_text_and_tags_in_the_documented_order()
    {
        var text = ItemText.Compose("Toy Story (1995)", "Adventure, Animation, Children", ["pixar", "fun"]);
        Assert.Equal("Toy Story (1995). Adventure, Animation, Children. Tags: pixar, fun", text);
    }

    [Fact]
    public void Skips_empty_parts_collapses_whitespace_and_drops_duplicate_tags()
    {
        Assert.Equal("Heat (1995)", ItemText.Compose("  Heat   (1995) ", null, null));
        Assert.Equal("Tags: dark, noir", ItemText.Compose(null, "  ", ["dark", " ", "Dark", "noir\t"]));
        Assert.Equal("Title. Drama", ItemText.Compose("Title.", "Drama", []));
        Assert.Equal("", ItemText.Compose(null, null, null));
    }

    [Fact]
    public void Caps_the_length()
    {
        var tags = Enumerable.Range(0, 400).Select(i => $"tag{i}").ToArray();
        var text = ItemText.Compose("Long", "Drama", tags);
        Assert.InRange(text.Length, ItemText.MaxLength - 10, ItemText.MaxLength);
        Assert.StartsWith("Long. Drama. Tags: tag0, tag1", text);
        Assert.Equal(text, ItemText.Compose("Long", "Drama", tags));
    }
}

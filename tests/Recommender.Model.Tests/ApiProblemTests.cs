using Recommender.Cli;

namespace Recommender.Model.Tests;

/// <summary>How the commands that talk to a cluster read its refusals, including answers that are not problem documents.</summary>
public sealed class ApiProblemTests
{
    [Fact]
    public void Field_messages_come_before_the_detail_and_the_title()
    {
        var problems = ApiProblem.Read("""{"title":"One or more validation errors occurred.","detail":"see errors","errors":{"[3].itemId":["Unknown item."],"manifest":["Bad.","Worse."]}}""");
        Assert.Equal([("[3].itemId", "Unknown item."), ("manifest", "Bad."), ("manifest", "Worse.")], problems);
        Assert.Equal([(null, "No model is active.")], ApiProblem.Read("""{"title":"Unavailable","detail":"No model is active."}"""));
        Assert.Equal([(null, "Forbidden")], ApiProblem.Read("""{"title":"Forbidden","status":403}"""));
    }

    [Fact]
    public void Answers_that_are_not_problem_documents_say_nothing_and_are_shown_cut_short()
    {
        Assert.Empty(ApiProblem.Read("<html><body>502 Bad Gateway</body></html>"));
        Assert.Empty(ApiProblem.Read("[1, 2]"));
        Assert.Empty(ApiProblem.Read("""{"errors":{"a":[1, {"b":2}]},"detail":7}"""));
        Assert.Equal("abc…", ApiProblem.Excerpt("abcdef", 3));
        Assert.Equal("abc", ApiProblem.Excerpt("abc", 3));
    }
}

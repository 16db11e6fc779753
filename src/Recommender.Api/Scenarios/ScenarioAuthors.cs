using Recommender.Abstractions;
using Recommender.Api.Security;
using Recommender.Api.Validation;

namespace Recommender.Api.Scenarios;

/// <summary>Who sends a change of scenarios, and the note= it gives, as the scenarios' history keeps them.</summary>
public static class ScenarioAuthors
{
    /// <summary>
    /// The key the request was authenticated with ("admin key 1"; on an API without keys, the address it came from)
    /// and its note; null with the fault under "note" when the note is too long or holds control characters.
    /// </summary>
    public static ScenarioAuthor? From(HttpContext context, string? note, ValidationErrors errors)
    {
        if (note is not null)
        {
            note = note.Trim();
            if (note.Length > ScenarioAuthor.MaxNoteLength)
                errors.Add("note", $"note is {note.Length} characters long; the limit is {ScenarioAuthor.MaxNoteLength}.");
            else if (note.Any(char.IsControl))
                errors.Add("note", "note may not hold control characters (line breaks, tabs): it is one line of the history.");
            if (errors.Any) return null;
        }
        return new ScenarioAuthor(RateLimits.Caller(context), string.IsNullOrEmpty(note) ? null : note);
    }
}

using System.Net;
using System.Text.Json;

namespace Recommender.Cli;

/// <summary>What a refusal of the API (an RFC 7807 problem document) says, for the commands to name it.</summary>
internal static class ApiProblem
{
    /// <summary>
    /// Each field's messages (a validation problem's errors), or else its detail or title with no field; empty when
    /// <paramref name="text"/> is not a problem document (a proxy's page, another service's answer).
    /// </summary>
    public static List<(string? Field, string Message)> Read(string text)
    {
        var problems = new List<(string?, string)>();
        try
        {
            using var problem = JsonDocument.Parse(text);
            var root = problem.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return problems;
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
                foreach (var field in errors.EnumerateObject().Where(f => f.Value.ValueKind == JsonValueKind.Array))
                    problems.AddRange(field.Value.EnumerateArray().Where(m => m.ValueKind == JsonValueKind.String).Select(m => ((string?)field.Name, m.GetString()!)));
            if (problems.Count > 0) return problems;
            foreach (var name in new[] { "detail", "title" })
                if (root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
                    return [(null, value.GetString()!)];
        }
        catch (JsonException)
        {
        }
        return problems;
    }

    /// <summary>
    /// Writes "error: {address}{endpoint} answered {status}: {what the problem says}" and, for 401 and 403, that
    /// <paramref name="operation"/> (e.g. "Publishing") needs an admin key and where to give it.
    /// </summary>
    public static async Task ReportAsync(ApiConnection http, string endpoint, HttpStatusCode status, string text, TextWriter error, string operation)
    {
        var problems = Read(text).Select(p => p.Field is null ? p.Message : $"{p.Field}: {p.Message}").ToList();
        if (problems.Count == 0) problems.Add(Excerpt(text, 300));
        await error.WriteLineAsync($"error: {http.BaseAddress}{endpoint} answered {(int)status}: {string.Join("; ", problems)}");
        if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            await error.WriteLineAsync($"{operation} needs an admin key of the cluster (Recommender:ApiKeys:Admin): --api-key or the {ApiConnection.ApiKeyVariable} environment variable.");
    }

    /// <summary>The start of an answer that is not a problem document, to show as it is.</summary>
    public static string Excerpt(string text, int length) => text.Length > length ? text[..length] + "…" : text;
}

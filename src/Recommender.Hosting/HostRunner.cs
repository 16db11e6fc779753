using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Recommender.Hosting;

/// <summary>
/// Builds, starts and runs a node. A configuration error (a value out of range, one that does not convert, an
/// address already in use) ends it with one line on standard error and exit code 2 instead of an unhandled
/// exception's stack trace.
/// </summary>
public static class HostRunner
{
    public const int ConfigurationErrorExitCode = 2;

    public static async Task<int> RunAsync(Func<WebApplication> build)
    {
        WebApplication app;
        try
        {
            app = build();
            await app.StartAsync();
        }
        catch (Exception e) when (Describe(e) is { } message)
        {
            await Console.Error.WriteLineAsync($"Configuration error: {message}");
            return ConfigurationErrorExitCode;
        }
        await using (app)
            await app.WaitForShutdownAsync();
        return 0;
    }

    /// <summary>The message of a configuration error, or null for any other exception (which stays unhandled).</summary>
    public static string? Describe(Exception e) => e switch
    {
        OptionsValidationException invalid => string.Join(" ", invalid.Failures),
        // The binder's "Failed to convert configuration value 'x' at 'Section:Key' to type T." and why.
        InvalidOperationException { InnerException: FormatException format } binding when binding.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal)
            => $"{binding.Message} {format.Message}",
        IOException io when io.Message.StartsWith("Failed to bind to address", StringComparison.Ordinal) => io.Message,
        _ => null,
    };
}

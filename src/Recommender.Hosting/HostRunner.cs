using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Recommender.Hosting;

/// <summary>
/// Builds, checks, starts and runs a node. A configuration error (a value out of range or of the wrong type, a listen
/// address that is not a URL, a port already in use, a data file that is no database or that another node uses) ends it with one line on standard error and exit code 2 instead
/// of an unhandled exception's stack trace, before anything is started.
/// </summary>
public static class HostRunner
{
    public const int ConfigurationErrorExitCode = 2;

    /// <summary>
    /// A node's builder, reading the appsettings.json shipped beside its assembly. ASP.NET Core's default content root,
    /// the working directory, would leave a node started from elsewhere (<c>dotnet /opt/recommender/Recommender.Api.dll</c>,
    /// a service manager, a script) without the shipped settings: it would then log every request and Orleans' routine
    /// at Information, which costs a cached read a quarter of its CPU time.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args) =>
        WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

    /// <param name="hostsSilo">Whether the built node runs a silo, whose Orleans ports must then be free too.</param>
    public static async Task<int> RunAsync(Func<WebApplication> build, Func<IConfiguration, bool>? hostsSilo = null)
    {
        WebApplication app;
        try
        {
            app = build();
            if (Preflight(app.Configuration, hostsSilo?.Invoke(app.Configuration) ?? false) is { } problem)
                return await Fail(problem);
            await app.StartAsync();
        }
        catch (Exception e) when (Describe(e) is { } message)
        {
            return await Fail(message);
        }
        await using (app)
            await app.WaitForShutdownAsync();
        return 0;
    }

    private static async Task<int> Fail(string message)
    {
        await Console.Error.WriteLineAsync($"Configuration error: {message}");
        return ConfigurationErrorExitCode;
    }

    /// <summary>The message of a configuration error, or null for any other exception (which stays unhandled).</summary>
    public static string? Describe(Exception e) => e switch
    {
        OptionsValidationException invalid => string.Join(" ", invalid.Failures),
        // The binder's "Failed to convert configuration value 'x' at 'Section:Key' to type T." and why (for numbers the
        // FormatException sits one level further down).
        InvalidOperationException binding when binding.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal)
            => FirstFormatError(binding) is { } format ? $"{binding.Message} {format.Message}" : binding.Message,
        IOException io when io.Message.StartsWith("Failed to bind to address", StringComparison.Ordinal) => io.Message,
        Sql.DataFileException data => data.Message,
        // Orleans' own checks of its options (a setting this project passes through to it unchecked).
        Orleans.Runtime.OrleansConfigurationException orleans => orleans.Message,
        _ => null,
    };

    private static FormatException? FirstFormatError(Exception e)
    {
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
            if (inner is FormatException format) return format;
        return null;
    }

    /// <summary>
    /// What is wrong with the listen addresses (<c>urls</c>, <c>ASPNETCORE_URLS</c>) and, for a node with a silo, the
    /// Orleans ports; null when nothing is. Kestrel would read "http://127.0.0.1:abc" as port 80 on every interface, and
    /// throw on an out-of-range port or a port in use only after logging the whole exception.
    /// </summary>
    public static string? Preflight(IConfiguration configuration, bool hostsSilo)
    {
        var ports = new List<(string What, IPAddress Address, int Port)>();
        var urls = configuration["urls"];
        var addresses = (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (!string.IsNullOrEmpty(urls) && addresses.Length == 0)
            return $"The listen addresses (urls) '{urls}' hold no address; give one such as http://127.0.0.1:5000, or leave the setting out.";
        foreach (var url in addresses)
        {
            // Kestrel's wildcard hosts are not URL hosts; any address stands in for them here.
            var parsable = url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
            if (!Uri.TryCreate(parsable, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                return $"The listen address '{url}' is not an http(s) URL with a valid port, such as http://127.0.0.1:5000.";
            if (uri.Port == 0) continue;
            var address = uri.IsLoopback ? IPAddress.Loopback : IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) ? ip : null;
            if (address is not null) ports.Add(($"listen address {url}", address, uri.Port));
        }
        if (hostsSilo)
        {
            var endpoints = RecommenderSiloExtensions.BindEndpoints(configuration);
            foreach (var (key, port) in new[] { ("Orleans:SiloPort", endpoints.SiloPort), ("Orleans:GatewayPort", endpoints.GatewayPort) })
            {
                if (port is < 1 or > 65535) return $"{key} must be a port number from 1 to 65535, not {port}.";
                ports.Add((key, IPAddress.Any, port));
            }
        }
        foreach (var (what, address, port) in ports)
            if (InUse(address, port)) return $"Port {port} ({what}) is already in use: is another node running on this machine?";
        return null;
    }

    private static bool InUse(IPAddress address, int port)
    {
        var listener = new TcpListener(address, port);
        try
        {
            listener.Start();
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return true;
        }
        catch (SocketException)
        {
            // Not ours to judge (say, an address this machine does not have): Kestrel will report it.
            return false;
        }
        finally
        {
            listener.Stop();
        }
    }
}

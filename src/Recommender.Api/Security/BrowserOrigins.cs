using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Recommender.Api.Validation;

namespace Recommender.Api.Security;

/// <summary>
/// <c>Recommender:Cors:AllowedOrigins</c>: the web origins whose pages may call the API from a browser (CORS), such as
/// a shop's front end asking for an anonymous visitor's session recommendations. None by default: browsers then let no
/// other origin read the API's answers.
/// </summary>
public static class BrowserOrigins
{
    public const string Section = "Recommender:Cors";
    private const string OriginsSetting = "AllowedOrigins";
    public const string OriginsKey = Section + ":" + OriginsSetting;

    /// <summary>How long a browser may keep a preflight's answer.</summary>
    public static readonly TimeSpan PreflightMaxAge = TimeSpan.FromMinutes(10);

    /// <summary>Reads and checks the origins (a list, or one comma-separated value); a bad one stops the node.</summary>
    public static string[] Read(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var errors = new List<string>();
        SettingValues.RejectUnknown(section, [OriginsSetting], errors);
        var values = SettingValues.ReadList(section.GetSection(OriginsSetting), errors);
        var allowed = new List<string>();
        foreach (var value in values)
        {
            if (value == "*")
            {
                if (values.Count > 1) errors.Add($"{OriginsKey} lists '*' beside other origins: '*' (every origin) stands alone.");
                allowed.Add(value);
            }
            else if (value.Length == 0)
                errors.Add($"{OriginsKey} holds an empty origin: give origins such as https://shop.example, or remove the setting.");
            else if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
                || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
                errors.Add($"{OriginsKey} holds '{value}', which is not a web origin: give scheme, host and port only, such as https://shop.example or http://localhost:3000.");
            else
                allowed.Add(uri.GetLeftPart(UriPartial.Authority));
        }
        if (errors.Count > 0) throw new OptionsValidationException(Section, typeof(BrowserOrigins), errors);
        return [.. allowed.Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    public static void AddBrowserOrigins(this WebApplicationBuilder builder)
    {
        var origins = Read(builder.Configuration);
        builder.Services.AddSingleton(new AllowedOrigins(origins));
        if (origins.Length == 0) return;
        builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy =>
        {
            if (origins is ["*"]) policy.AllowAnyOrigin();
            else policy.WithOrigins(origins);
            // What a page sends: JSON bodies, an API key, an idempotency key, the scenarios' conditions and a trace context.
            policy.WithMethods(HttpMethods.Get, HttpMethods.Post, HttpMethods.Put, HttpMethods.Patch, HttpMethods.Delete)
                .WithHeaders(HeaderNames.ContentType, HeaderNames.Authorization, ApiKeyAuthenticationHandler.HeaderName, IdempotencyKey.HeaderName,
                    HeaderNames.IfMatch, HeaderNames.IfNoneMatch, "traceparent", "tracestate")
                .WithExposedHeaders(HeaderNames.RetryAfter, HeaderNames.ETag)
                .SetPreflightMaxAge(PreflightMaxAge);
        }));
    }

    /// <summary>First in the pipeline: a preflight carries no API key, and is answered here before the key checks.</summary>
    public static void UseBrowserOrigins(this WebApplication app)
    {
        if (app.Services.GetRequiredService<AllowedOrigins>().Origins.Length > 0) app.UseCors();
    }
}

/// <summary>The origins <see cref="BrowserOrigins"/> read (none: CORS is off).</summary>
public sealed record AllowedOrigins(string[] Origins);

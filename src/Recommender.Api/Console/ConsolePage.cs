using Microsoft.Extensions.FileProviders;

namespace Recommender.Api.Console;

/// <summary>
/// The operator console at /console/: static pages built into the front end that read its own HTTP API in the browser
/// with the key the operator enters (a user's list and history, an item and its similar items, the popular and newest
/// lists, the model versions and a candidate's A/B test). The pages hold no data, so they are served without a key;
/// every read they make is an API request, checked, limited and counted as any other.
/// </summary>
public static class ConsolePage
{
    public const string Path = "/console";

    // Scripts, styles and reads from this origin only, no frames: a value the API returns can never run as code here.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static WebApplication UseConsole(this WebApplication app)
    {
        var files = new ManifestEmbeddedFileProvider(typeof(ConsolePage).Assembly, "Console/Files");
        // Relative links in the pages need the trailing slash.
        app.Use((context, next) =>
        {
            if (context.Request.Path.Value != Path) return next(context);
            context.Response.Redirect(Path + "/");
            return Task.CompletedTask;
        });
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = Path });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = Path,
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                // A new release's pages replace the old at once.
                headers.CacheControl = "no-cache";
            },
        });
        return app;
    }
}

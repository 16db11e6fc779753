using System.CommandLine;
using System.Globalization;
using System.Net;
using Recommender.Model.Packaging;

namespace Recommender.Cli;

/// <summary>
/// recommender publish: a package written by train --export or export, checked here, uploaded to the cluster (POST
/// /models) and, with --activate, made the version that serves (with --candidate, served to a share of the users beside
/// it); the last steps of a retraining job. Gates keep a
/// worse package from serving: --min-metric refuses it before anything is sent, --compare-with-active registers it
/// without activating it when the active version scored higher. Running the command again after a failure is safe:
/// a version already registered with the same package is not sent twice, and activating the active version changes
/// nothing.
/// </summary>
internal static class PublishCommand
{
    /// <summary>The exit code when a gate held the package back: not an error of the command, but not served either.</summary>
    public const int HeldBack = 3;

    /// <summary>The API's limit on a model upload's body (the cluster's Limits.MaxModelUploadBytes).</summary>
    public const long MaxUploadBytes = 64L * 1024 * 1024;

    public static Command Create()
    {
        var package = new Option<string>("--package")
        {
            Description = "The package directory, as train --export or export writes it (manifest.json, encoder.onnx, item_embeddings.bin, and text_projection.onnx when trained with item text).",
            Required = true,
        };
        var activate = new Option<bool>("--activate") { Description = "Make the version the one that serves once it is registered (POST /models/{version}/activate)." };
        var candidate = new Option<double?>("--candidate")
        {
            Description = "SHARE (instead of --activate): serve the version to SHARE of the users (above 0, at most 1) beside the active version once it is registered, " +
                "for an A/B test (POST /models/{version}/candidate?share=SHARE); it replaces any candidate before it.",
        };
        var minMetric = new Option<string[]>("--min-metric")
        {
            Description = "NAME=VALUE, repeatable: send nothing, and exit with code 3, unless the package's metric NAME (its manifest's, e.g. val_ndcg@10) is at least VALUE.",
        };
        var compare = new Option<string?>("--compare-with-active")
        {
            Description = "NAME (with --activate): register the package but leave the active version serving, and exit with code 3, when the active version's metric NAME is higher than the package's by more than --tolerance.",
        };
        var holdout = new Option<string?>("--holdout")
        {
            Description = "With --compare-with-active: a split directory (as split writes it: val/, items.tsv) on whose validation cases both the package and the active version " +
                "(read from --models-directory) are scored, instead of comparing the scores each recorded on the users of its own day; NAME is then ndcg@K or hr@K.",
        };
        var modelsDirectory = new Option<string?>("--models-directory")
        {
            Description = "The cluster's models directory ({DataDirectory}/models), where --holdout finds the active version's package (default: the parent of --incoming-directory).",
        };
        var tolerance = new Option<double>("--tolerance") { Description = "With --compare-with-active: how far below the active version's metric the package's may be and still be activated.", DefaultValueFactory = _ => 0 };
        var incoming = new Option<string?>("--incoming-directory")
        {
            Description = "The cluster's incoming model directory ({DataDirectory}/models/.incoming, on the storage every silo reads): the package is copied there and registered " +
                "(POST /models/{version}/register) instead of uploaded, as a package past the API's 64 MiB upload limit must be.",
        };
        var api = ApiConnection.AddressOption();
        var apiKey = ApiConnection.KeyOption("An admin API key (Recommender:ApiKeys:Admin)");
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for each answer (the cluster takes up to 10 minutes to activate a large catalogue).", DefaultValueFactory = _ => 660 };
        var attempts = new Option<int>("--attempts") { Description = "Attempts a request, 1 to 100, while the cluster answers 429 or 503 or not at all.", DefaultValueFactory = _ => 5 };
        var command = new Command("publish", "Upload a model package to the cluster (POST /models) and, with --activate, serve it; --min-metric and --compare-with-active keep a worse package from serving.")
        {
            package, activate, candidate, minMetric, compare, holdout, modelsDirectory, tolerance, incoming, api, apiKey, timeout, attempts,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            ApiConnection? connection = null;
            PackageUpload? upload = null;
            Holdout? sameCases = null;
            (string Name, double Minimum)[] floors = [];
            if (CommandErrors.Guard(parse, () =>
                {
                    if (parse.GetValue(attempts) is < 1 or > 100) throw new ArgumentException($"--attempts {parse.GetValue(attempts)} must be between 1 and 100.");
                    if (parse.GetValue(compare) is not null && !parse.GetValue(activate))
                        throw new ArgumentException("--compare-with-active decides whether the package is activated: give --activate too.");
                    if (parse.GetValue(candidate) is { } share && (parse.GetValue(activate) || !(share is > 0 and <= 1)))
                        throw new ArgumentException(parse.GetValue(activate)
                            ? "--candidate serves the version beside the active one, --activate instead of it: give one of them."
                            : $"--candidate {share.ToString(CultureInfo.InvariantCulture)} must be a share of the users above 0 and at most 1, such as 0.1.");
                    if (parse.GetValue(compare) is not null && string.IsNullOrWhiteSpace(parse.GetValue(compare)))
                        throw new ArgumentException("--compare-with-active needs the name of a metric, e.g. val_ndcg@10.");
                    var allowed = parse.GetValue(tolerance);
                    if (!double.IsFinite(allowed) || allowed < 0) throw new ArgumentException($"--tolerance {allowed.ToString(CultureInfo.InvariantCulture)} must be a number of at least 0.");
                    floors = [.. (parse.GetValue(minMetric) ?? []).Select(ParseFloor)];
                    connection = ApiConnection.Open(parse.GetValue(api), parse.GetValue(apiKey), parse.GetValue(timeout));
                    // {DataDirectory}/models/.incoming: the data directory must be there (the cluster makes the rest
                    // with its first model), so that a mistyped path is not made.
                    var place = parse.GetValue(incoming) is { } given ? Path.GetFullPath(given) : null;
                    if (place is not null && Path.GetDirectoryName(Path.GetDirectoryName(place)) is var data && !Directory.Exists(data))
                        throw new DirectoryNotFoundException($"--incoming-directory {parse.GetValue(incoming)}: {data} does not exist; give the cluster's data directory's models/.incoming, e.g. /data/models/.incoming.");
                    upload = PackageUpload.Read(parse.GetValue(package)!, uploaded: place is null);
                    foreach (var metric in floors.Select(f => f.Name))
                        upload.Metric(metric);
                    if (parse.GetValue(holdout) is { } split)
                        sameCases = Holdout.Open(split, parse.GetValue(compare), parse.GetValue(modelsDirectory) ?? (place is null ? null : Path.GetDirectoryName(place)));
                    else if (parse.GetValue(compare) is { } metric) upload.Metric(metric);
                    return 0;
                }) is not 0 and var refused)
            {
                connection?.Dispose();
                return refused;
            }
            using var http = connection!;
            var manifest = upload!.Manifest;
            foreach (var (name, minimum) in floors)
                if (upload.Metric(name) < minimum)
                {
                    await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"held back: the package's {name} is {upload.Metric(name):0.####}, below --min-metric {minimum:0.####}; nothing was sent."));
                    return HeldBack;
                }
            try
            {
                var registered = parse.GetValue(incoming) is { } directory
                    ? await RegisterPlaced(http, upload, Path.GetFullPath(directory), parse.GetValue(attempts), output, error, cancellation)
                    : await Register(http, upload, parse.GetValue(attempts), output, error, cancellation);
                if (registered is not 0 and var failed) return failed;
                if (parse.GetValue(candidate) is { } share) return await StartCandidate(http, manifest.Version, share, parse.GetValue(attempts), output, error, cancellation);
                if (!parse.GetValue(activate)) return 0;
                if (parse.GetValue(compare) is { } metric
                    && await ActiveBetter(http, upload, metric, sameCases, parse.GetValue(tolerance), parse.GetValue(attempts), output, error, cancellation) is { } held)
                    return held;
                return await Activate(http, manifest.Version, parse.GetValue(attempts), output, error, cancellation);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException && !cancellation.IsCancellationRequested)
            {
                await error.WriteLineAsync($"error: {e.Message}");
                return 1;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellation.IsCancellationRequested)
            {
                await error.WriteLineAsync($"error: {http.NoAnswer(e)}; " +
                    $"version {manifest.Version} may have been registered or activated: run the command again, which completes what is missing.");
                return 1;
            }
        });
        return command;
    }

    /// <summary>"val_ndcg@10=0.05" as the metric's name and its least value.</summary>
    private static (string Name, double Minimum) ParseFloor(string text)
    {
        var at = text.LastIndexOf('=');
        if (at <= 0 || !double.TryParse(text[(at + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var minimum) || !double.IsFinite(minimum))
            throw new ArgumentException($"--min-metric '{text}' must be NAME=VALUE, a metric of the package's manifest and a number, e.g. val_ndcg@10=0.05.");
        return (text[..at].Trim(), minimum);
    }

    /// <summary>POST /models, or, when the version is registered already, a check that it is this package.</summary>
    private static async Task<int> Register(ApiConnection http, PackageUpload upload, int attempts, TextWriter output, TextWriter error, CancellationToken cancellation)
    {
        var version = upload.Manifest.Version;
        // A repeat of an upload whose answer was lost meets the version registered (409), which the check below accepts.
        using var response = await http.SendAsync(upload.Request, attempts, retryLost: true, error, HttpCompletionOption.ResponseContentRead, cancellation);
        var text = await response.Content.ReadAsStringAsync(cancellation);
        if (response.StatusCode == HttpStatusCode.Created)
        {
            await output.WriteLineAsync($"registered {version}: {Describe(upload)}");
            return 0;
        }
        if (response.StatusCode != HttpStatusCode.Conflict) return await Refused(http, "models", response.StatusCode, text, error,
            mayHaveBeenDone: $"version {version} may have been registered");
        return await AlreadyRegistered(http, upload, attempts, output, error, cancellation, ("models", text));
    }

    /// <summary>
    /// The package copied into the cluster's incoming directory (staged beside it, then renamed in, so a silo never reads
    /// half a package) and registered there; a package the cluster refuses is taken out again.
    /// </summary>
    private static async Task<int> RegisterPlaced(ApiConnection http, PackageUpload upload, string incoming, int attempts, TextWriter output, TextWriter error, CancellationToken cancellation)
    {
        var version = upload.Manifest.Version;
        var target = Path.Combine(incoming, version);
        upload.PlaceIn(target);
        var endpoint = $"models/{Uri.EscapeDataString(version)}/register";
        // A repeat after a lost answer finds the version registered (409) or its package already taken (404).
        using var response = await http.SendAsync(() => new HttpRequestMessage(HttpMethod.Post, endpoint), attempts, retryLost: true, error, HttpCompletionOption.ResponseContentRead, cancellation);
        var text = await response.Content.ReadAsStringAsync(cancellation);
        if (response.StatusCode == HttpStatusCode.Created)
        {
            await output.WriteLineAsync($"registered {version} from {target}: {Describe(upload)}");
            return 0;
        }
        // Registered before (the copy placed now is not needed), or taken by an attempt whose answer was lost.
        var registeredBefore = response.StatusCode == HttpStatusCode.Conflict;
        var taken = response.StatusCode == HttpStatusCode.NotFound && !Directory.Exists(target);
        if (registeredBefore || taken)
        {
            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
            return await AlreadyRegistered(http, upload, attempts, output, error, cancellation, registeredBefore ? (endpoint, text) : null);
        }
        // Refused: the cluster has put the package back where it was placed; the copy is taken out, the original stays.
        if ((int)response.StatusCode is >= 400 and < 500 && Directory.Exists(target)) Directory.Delete(target, recursive: true);
        return await Refused(http, endpoint, response.StatusCode, text, error, mayHaveBeenDone: $"version {version} may have been registered");
    }

    /// <summary>
    /// The version is registered already: accepted when it is this package as far as the registry describes it. A
    /// conflict over a version that is not registered (a deleted one, whose name is not used again) is reported as the
    /// cluster gave it.
    /// </summary>
    private static async Task<int> AlreadyRegistered(ApiConnection http, PackageUpload upload, int attempts, TextWriter output, TextWriter error, CancellationToken cancellation,
        (string Endpoint, string Text)? conflict)
    {
        var version = upload.Manifest.Version;
        using var registered = await http.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, $"models/{Uri.EscapeDataString(version)}"), attempts, retryLost: true, error,
            HttpCompletionOption.ResponseContentRead, cancellation);
        var described = await registered.Content.ReadAsStringAsync(cancellation);
        if (registered.StatusCode == HttpStatusCode.NotFound && conflict is { } refusal)
            return await Refused(http, refusal.Endpoint, HttpStatusCode.Conflict, refusal.Text, error, mayHaveBeenDone: null);
        if (!registered.IsSuccessStatusCode) return await Refused(http, $"models/{version}", registered.StatusCode, described, error, mayHaveBeenDone: null);
        var model = http.ReadAnswer<RegisteredModel>($"models/{version}", registered.StatusCode, described);
        if (upload.Differences(model) is { Count: > 0 } differences)
        {
            await error.WriteLineAsync($"error: version {version} is registered already with another package ({string.Join("; ", differences)}); " +
                "export this one under a version of its own (train --version or export --version).");
            return 1;
        }
        await output.WriteLineAsync($"{version} is registered already with this package's description ({Describe(upload)}); not sent again.");
        return 0;
    }

    /// <summary>The exit code when the active version scored higher on <paramref name="metric"/>; null when the package may serve.</summary>
    private static async Task<int?> ActiveBetter(ApiConnection http, PackageUpload upload, string metric, Holdout? sameCases, double tolerance, int attempts,
        TextWriter output, TextWriter error, CancellationToken cancellation)
    {
        using var response = await http.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, "models"), attempts, retryLost: true, error, HttpCompletionOption.ResponseContentRead, cancellation);
        var text = await response.Content.ReadAsStringAsync(cancellation);
        if (!response.IsSuccessStatusCode) return await Refused(http, "models", response.StatusCode, text, error, mayHaveBeenDone: null);
        var models = http.ReadAnswer<RegisteredModels>("models", response.StatusCode, text);
        var version = upload.Manifest.Version;
        if (models.Active == version || models.Models.FirstOrDefault(m => m.Version == models.Active) is not { } active) return null;
        double candidate, served;
        // A version that recorded no validation score was trained without holding events out (the bundled demo
        // package is), so it has seen the holdout's validation items and would win on them in-sample.
        if (sameCases is not null && active.Metrics?.Keys.Any(k => k.StartsWith("val_", StringComparison.Ordinal)) != true)
        {
            await output.WriteLineAsync($"the active version {active.Version} recorded no validation score: trained on every event, it has seen the holdout's validation items, " +
                $"so it is not scored on them; activating {version}.");
            return null;
        }
        if (sameCases is not null)
        {
            // Both scored on this run's validation users, each reading the items it knows.
            var (mine, _) = sameCases.Score(upload.Package);
            var (theirs, unknown) = sameCases.Score(sameCases.Load(active.Version));
            (candidate, served) = (mine, theirs);
            var note = unknown > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({unknown:N0} of them name items it does not know)") : "";
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{metric} on the {sameCases.Count:N0} validation cases of {sameCases.Directory}: {candidate:0.####} for {version}, {served:0.####} for the active {active.Version}{note}."));
        }
        else
        {
            candidate = upload.Metric(metric);
            if (active.Metrics is null || !active.Metrics.TryGetValue(metric, out served))
            {
                await output.WriteLineAsync($"the active version {active.Version} has no {metric} to compare with; activating {version}.");
                return null;
            }
        }
        if (candidate >= served - tolerance)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{metric}: {candidate:0.####} for {version}, {served:0.####} for the active {active.Version}; activating {version}."));
            return null;
        }
        await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"held back: {version}'s {metric} is {candidate:0.####}, the active {active.Version}'s {served:0.####} (tolerance {tolerance:0.####}); {version} is registered, {active.Version} keeps serving " +
            $"(POST /models/{version}/activate serves it all the same)."));
        return HeldBack;
    }

    /// <summary>POST /models/{version}/activate, its outcome written as one line; 0, or 1 with the problem on <paramref name="error"/>.</summary>
    internal static async Task<int> Activate(ApiConnection http, string version, int attempts, TextWriter output, TextWriter error, CancellationToken cancellation,
        string operation = "Publishing")
    {
        var endpoint = $"models/{Uri.EscapeDataString(version)}/activate";
        // Activating the active version changes nothing, so a request whose answer was lost may be sent again.
        using var response = await http.SendAsync(() => new HttpRequestMessage(HttpMethod.Post, endpoint), attempts, retryLost: true, error, HttpCompletionOption.ResponseContentRead, cancellation);
        var text = await response.Content.ReadAsStringAsync(cancellation);
        if (!response.IsSuccessStatusCode) return await Refused(http, endpoint, response.StatusCode, text, error, mayHaveBeenDone: $"version {version} may have been activated", operation);
        var result = http.ReadAnswer<Activation>(endpoint, response.StatusCode, text);
        await output.WriteLineAsync($"active: {result.Active}" + (result.Previous is { } previous && previous != result.Active ? $" (before: {previous})" : "") +
            $", {result.Shards} shards; {result.CarriedItems:N0} items added through the API carried over" +
            (result.NotRecommendable.Count > 0 ? $", {result.NotRecommendable.Count:N0} of them not recommendable by this version ({string.Join(", ", result.NotRecommendable.Take(10))}{(result.NotRecommendable.Count > 10 ? ", …" : "")})" : "") +
            (result.NotInCatalogue > 0 ? $"; {result.NotInCatalogue:N0} of its items are not in the catalogue and wait until they are added" : "") + ".");
        return 0;
    }

    private static async Task<int> StartCandidate(ApiConnection http, string version, double share, int attempts, TextWriter output, TextWriter error, CancellationToken cancellation)
    {
        var endpoint = string.Create(CultureInfo.InvariantCulture, $"models/{Uri.EscapeDataString(version)}/candidate?share={share}");
        // Starting the candidate again at the same share changes nothing, so a request whose answer was lost may be sent again.
        using var response = await http.SendAsync(() => new HttpRequestMessage(HttpMethod.Post, endpoint), attempts, retryLost: true, error, HttpCompletionOption.ResponseContentRead, cancellation);
        var text = await response.Content.ReadAsStringAsync(cancellation);
        if (!response.IsSuccessStatusCode) return await Refused(http, endpoint, response.StatusCode, text, error, mayHaveBeenDone: $"version {version} may have been made the candidate");
        var result = http.ReadAnswer<CandidateStart>(endpoint, response.StatusCode, text);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"candidate: {result.Candidate} for a share of {result.Share} of the users beside {result.Active}, ") +
            $"{result.Shards} shards; {result.CarriedItems:N0} items added through the API carried over" +
            (result.NotRecommendable.Count > 0 ? $", {result.NotRecommendable.Count:N0} of them not recommendable by this version" : "") +
            (result.NotInCatalogue > 0 ? $"; {result.NotInCatalogue:N0} of its items are not in the catalogue" : "") +
            $". Compare the sides: recommender candidate-results --version {version} (GET /models/{version}/candidate/results); POST /models/{version}/activate serves it to everyone, DELETE /models/{version}/candidate stops it.");
        return 0;
    }

    /// <summary>A refusal or failure of the API, its problem's messages named; exit code 1.</summary>
    private static async Task<int> Refused(ApiConnection http, string endpoint, HttpStatusCode status, string text, TextWriter error, string? mayHaveBeenDone,
        string operation = "Publishing")
    {
        await ApiProblem.ReportAsync(http, endpoint, status, text, error, operation);
        if ((int)status >= 500 && mayHaveBeenDone is not null)
            await error.WriteLineAsync($"{char.ToUpperInvariant(mayHaveBeenDone[0])}{mayHaveBeenDone[1..]}: run the command again, which completes what is missing.");
        return 1;
    }

    private static string Describe(PackageUpload upload)
    {
        var m = upload.Manifest;
        return $"{m.Kind}, {m.ItemCount:N0} items, dimension {m.Dimension}, max length {m.MaxLength}, items by {m.ItemRepresentation}" +
            (m.Metrics is { Count: > 0 } metrics ? ", " + string.Join(", ", metrics.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value:0.####}"))) : "");
    }

    internal sealed record RegisteredModel(string Version, string Kind, int Dimension, int MaxLength, string Similarity, int ItemCount,
        Dictionary<string, double>? Metrics, string ItemRepresentation = ItemRepresentations.Id, bool TextProjection = false);

    private sealed record RegisteredModels(string? Active, List<RegisteredModel> Models);

    private sealed record Activation(string Active, string? Previous, int Shards, int CarriedItems, List<string> NotRecommendable, int NotInCatalogue);

    private sealed record CandidateStart(string Candidate, double Share, string Active, int Shards, int CarriedItems, List<string> NotRecommendable, int NotInCatalogue);
}

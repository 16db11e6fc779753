using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Recommender.Abstractions;
using Recommender.Grains.Inference;
using Recommender.Grains.Text;
using Recommender.Model.Baselines;
using Recommender.Model.Data;
using Recommender.Model.Packaging;

namespace Recommender.Hosting.Demo;

/// <summary>
/// First start with an empty store: builds the baseline model from the demo ratings and registers it, registers and
/// activates the trained demo package (the bundled SASRec transformer; the baseline itself when there is none), loads
/// the items (placing by their text those the package has no row for, when it has a text projection) and every user's
/// history. Runs on one silo (the catalogue hands out a claim) and only until the catalogue
/// records it as done; every step is idempotent (same model version, same item details, derived event ids), so a
/// load interrupted half-way is simply run again.
/// </summary>
public sealed class DemoSeeder(IGrainFactory grains, ModelRegistry models, TextEncoding text, IOptions<RecommenderOptions> options, ILogger<DemoSeeder> logger)
{
    private const int Parallelism = 16;
    private const int PlacementBatch = 2000;

    public async Task<bool> SeedIfEmptyAsync(string owner, CancellationToken cancellation)
    {
        var catalogue = grains.GetGrain<ICatalogueGrain>(0);
        if (!await catalogue.TryClaimSeeding(owner)) return false;
        var settings = options.Value;
        var source = settings.Seed.SourceDirectory;
        var clock = Stopwatch.StartNew();
        logger.LogInformation("Loading the demo data from {Source}", source);

        var demo = MovieLensCatalogue.Load(source);
        var data = InteractionLoader.Load(Path.Combine(source, MovieLensCatalogue.RatingsFile), InteractionFormat.MovieLensCsv);
        var baseline = ModelVersion(source, settings.Seed.Dimension);
        if (!models.Exists(baseline))
            models.Save(RecencyMeanModel.Build(data, baseline, settings.Seed.Dimension));
        var version = baseline;
        if (settings.Seed.ModelDirectory is { } trained)
        {
            // The trained package serves; the baseline stays registered (not active) as the rollback target.
            await catalogue.RegisterStoredModel(baseline, fallback: true);
            version = await RegisterTrained(catalogue, trained);
        }
        var active = (await catalogue.ActivateModel(version, settings.Shards)).Model;
        logger.LogInformation("Model {Version} active ({Items} items, {Shards} shards) after {Elapsed} ms", active.Version, active.ItemCount, active.Shards, clock.ElapsedMilliseconds);

        var served = models.Get(version);
        var items = await WithTextVectors(demo.Items, served);
        await Parallel.ForEachAsync(items.GroupBy(i => ItemBuckets.Of(i.Id)), new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellation },
            async (bucket, _) => await grains.GetGrain<IItemBucketGrain>(bucket.Key).Import(new Immutable<ItemDetails[]>(bucket.ToArray())));
        foreach (var chunk in items.Chunk(PlacementBatch))
            await catalogue.PlaceItems(new Immutable<ShardEntry[]>(chunk
                .Where(i => served.DenseIds.ContainsKey(i.Id) || i.TextVector is not null)
                .Select(i => new ShardEntry(i.Id, i.Title, null, i.Tags, i.TextVector)).ToArray()));
        logger.LogInformation("{Count} items loaded after {Elapsed} ms", items.Count, clock.ElapsedMilliseconds);

        var titles = demo.Items.ToDictionary(i => i.Id, i => i.Title, StringComparer.Ordinal);
        var tags = demo.Items.ToDictionary(i => i.Id, i => i.Tags, StringComparer.Ordinal);
        var popular = demo.Histories.Values
            .SelectMany(events => events)
            .CountBy(e => e.ItemId)
            .OrderByDescending(p => p.Value)
            .ThenBy(p => p.Key, StringComparer.Ordinal)
            .Take(settings.Seed.PopularCount)
            .Select(p => new PopularItem(p.Key, titles.GetValueOrDefault(p.Key, p.Key), p.Value, tags.GetValueOrDefault(p.Key)))
            .ToArray();
        await catalogue.SetPopular(new Immutable<PopularItem[]>(popular));

        await Parallel.ForEachAsync(demo.Histories, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellation },
            async (user, _) => await grains.User(user.Key).Ingest(new Immutable<UserEvent[]>(user.Value)));
        logger.LogInformation("{Users} user histories loaded after {Elapsed} ms", demo.Histories.Count, clock.ElapsedMilliseconds);

        await catalogue.CompleteSeeding(owner, demo.Items.Count);
        logger.LogInformation("Demo data loaded in {Elapsed} ms", clock.ElapsedMilliseconds);
        return true;
    }

    /// <summary>
    /// The items, those the served version has no trained row for (movies nobody rated) with their text vectors when it
    /// has a text projection: they are then placed by their text, as a new item written with PUT would be.
    /// </summary>
    private async Task<IReadOnlyList<ItemDetails>> WithTextVectors(IReadOnlyList<ItemDetails> items, LoadedModel served)
    {
        if (!served.HasTextProjection || !text.Enabled) return items;
        var untrained = items.Where(i => !served.DenseIds.ContainsKey(i.Id)).ToArray();
        if (untrained.Length == 0) return items;
        var vectors = await text.EncodeAsync(untrained.Select(TextEncoding.Compose).ToArray());
        var byId = untrained.Select((item, k) => item with { TextVector = vectors[k] }).ToDictionary(i => i.Id, StringComparer.Ordinal);
        logger.LogInformation("{Count} items without a trained row encoded for the text projection", untrained.Length);
        return items.Select(i => byId.GetValueOrDefault(i.Id) ?? i).ToArray();
    }

    /// <summary>Registers the package in <paramref name="directory"/> through the registry's full validation (a version registered by an earlier, interrupted load is kept); returns its version.</summary>
    private async Task<string> RegisterTrained(ICatalogueGrain catalogue, string directory)
    {
        var manifestPath = Path.Combine(directory, ModelPackage.ManifestFile);
        if (!File.Exists(manifestPath)) throw new FileNotFoundException($"The demo model package '{directory}' has no {ModelPackage.ManifestFile}.", manifestPath);
        var projection = ModelPackage.TextProjectionPath(directory);
        var upload = new ModelUpload(
            await File.ReadAllBytesAsync(manifestPath),
            await File.ReadAllBytesAsync(Path.Combine(directory, ModelPackage.EncoderFile)),
            await File.ReadAllBytesAsync(Path.Combine(directory, ModelPackage.EmbeddingsFile)),
            File.Exists(projection) ? await File.ReadAllBytesAsync(projection) : null);
        var registration = await catalogue.RegisterModel(new Immutable<ModelUpload>(upload));
        if (registration.Model is { } model) return model.Version;
        var version = ModelPackage.Load(directory).Manifest.Version;
        if (registration.Conflict) return version;
        throw new InvalidDataException($"The demo model package '{directory}' was rejected: {string.Join("; ", registration.Errors.Select(e => $"{e.Field}: {e.Message}"))}");
    }

    /// <summary>A stable version name for the baseline built from a source directory, e.g. "recency-mean-ml-latest-small-d64".</summary>
    public static string ModelVersion(string source, int dimension)
    {
        var name = new string(Path.GetFileName(Path.TrimEndingDirectorySeparator(source)).Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-').ToArray());
        return $"{RecencyMeanModel.Kind}-{name}-d{dimension}";
    }
}

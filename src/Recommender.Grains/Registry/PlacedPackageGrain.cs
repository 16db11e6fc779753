using Recommender.Abstractions;
using Recommender.Grains.Catalogue;
using Recommender.Grains.Inference;
using Recommender.Model.Packaging;

namespace Recommender.Grains.Registry;

/// <summary>
/// Registers a package placed in the incoming directory: moves it to a private staging directory, checks it there
/// off the catalogue (which stays free for item writes and activations meanwhile), then has the catalogue move it
/// into place and record it. A refused package goes back where it was placed.
/// </summary>
[StatelessWorker]
public sealed class PlacedPackageGrain(ModelRegistry models) : Grain, IPlacedPackageGrain
{
    public async Task<ModelRegistration> Register(string version)
    {
        if (!ModelPackage.IsValidVersion(version))
            return new ModelRegistration(null, [new UploadError("version", $"'{version}' is not a valid model version (letters, digits, '.', '_' and '-', starting with a letter or digit).")]);
        var catalogue = GrainFactory.GetGrain<ICatalogueGrain>(0);
        if (await catalogue.GetModel(version) is not null)
            return new ModelRegistration(null, [new UploadError("version", $"Version '{version}' is already registered.")], Conflict: true);
        var directory = models.IncomingPathOf(version);
        if (!File.Exists(Path.Combine(directory, ModelPackage.ManifestFile)))
            return new ModelRegistration(null, [new UploadError("version", $"No package is placed at {directory} (no {ModelPackage.ManifestFile}): copy the package directory there first, where every silo reads it.")], NotFound: true);
        string? staging;
        try
        {
            staging = models.StageIncoming(version);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new ModelRegistration(null, [new UploadError("version", $"The package at {directory} could not be moved for its checks: {e.Message}")]);
        }
        // Another registration of the version took it first.
        if (staging is null) return new ModelRegistration(null, [new UploadError("version", $"No package is placed at {directory}.")], NotFound: true);
        try
        {
            var (package, errors) = await Task.Run(() => PlacedPackageValidator.Validate(version, staging, directory));
            var registration = package is null
                ? new ModelRegistration(null, errors)
                : await catalogue.AdoptPlacedModel(new Immutable<ModelInfo>(CatalogueGrain.Describe(package, fallback: false)), staging);
            // Refused: the operator finds the package where it was placed, to fix it.
            if (registration.Model is null) models.ReturnStaged(version, staging);
            return registration;
        }
        catch
        {
            models.ReturnStaged(version, staging);
            throw;
        }
    }
}

namespace Recommender.Abstractions;

/// <summary>A user's behaviour history and interest vector. Key: the user id.</summary>
[Alias("recommender.IUserGrain")]
public interface IUserGrain : IGrainWithStringKey
{
    /// <summary>
    /// Records events (any order, repeats ignored); returns once they are persisted. A request withdrawn through
    /// <paramref name="cancellation"/> before it changed anything is dropped; once its write has begun it completes.
    /// </summary>
    [Alias("Ingest")]
    Task<IngestResult> Ingest(Immutable<UserEvent[]> events, CancellationToken cancellation = default);

    /// <summary>The most recent <paramref name="limit"/> events in timestamp order (all retained events when null).</summary>
    [Alias("GetHistory")]
    Task<UserHistoryView> GetHistory(int? limit, CancellationToken cancellation = default);

    /// <summary>
    /// Top-K for the user under the active model (one version for the whole answer), or the popularity list without
    /// usable history. A request withdrawn through <paramref name="cancellation"/> before it is served is dropped.
    /// </summary>
    [Alias("Recommend")]
    Task<Ranking> Recommend(RecommendationRequest request, CancellationToken cancellation = default);

    /// <summary>
    /// Deletes the stored history (its storage row keeps no payload) and the directory entry, so that nothing of the
    /// user is exported or recommended from; returns how many retained events were deleted (0 when none were stored).
    /// </summary>
    [Alias("Erase")]
    Task<long> Erase();

    /// <summary>
    /// Takes back the events <paramref name="removal"/> names: they leave the stored history (and the event journal's
    /// pending batches), so the model, the exclusion of seen items and the export no longer read them, and the same
    /// events sent again are repeats, not stored again. Returns how many retained events were removed (0 for a repeat).
    /// </summary>
    [Alias("RemoveEvents")]
    Task<int> RemoveEvents(EventRemoval removal);
}

/// <summary>Catalogue details of one item. Key: the external item id.</summary>
[Alias("recommender.IItemGrain")]
public interface IItemGrain : IGrainWithStringKey
{
    /// <summary>
    /// Creates or replaces the item (encoding its text unless unchanged) and places it in the active model's shards when
    /// it has, or the text projection gives it, a vector. A cancelled call writes nothing unless its write had begun.
    /// </summary>
    [Alias("Upsert")]
    Task<ItemView> Upsert(ItemDetails details, CancellationToken cancellation = default);

    /// <summary>
    /// Changes some of the item's details (<see cref="ItemChange"/>) and writes it as <see cref="Upsert"/> does, read and
    /// written in one turn of the item, so that no other write through it falls between; nothing for an item not stored.
    /// </summary>
    [Alias("Change")]
    Task<ItemChangeOutcome> Change(ItemChange change, CancellationToken cancellation = default);

    /// <summary>
    /// <see cref="Upsert"/>, made only while <paramref name="precondition"/> holds in the same turn of the item (the
    /// outcome says when it did not, and at which version the item was). A write the item already shows (a repeat of
    /// one whose answer was lost) is answered as made, without writing again (RFC 9110, section 13.1).
    /// </summary>
    [Alias("UpsertIf")]
    Task<ItemChangeOutcome> UpsertIf(ItemDetails details, ItemPrecondition precondition, CancellationToken cancellation = default);

    /// <summary><see cref="Change"/>, made only while <paramref name="precondition"/> holds, as <see cref="UpsertIf"/>.</summary>
    [Alias("ChangeIf")]
    Task<ItemChangeOutcome> ChangeIf(ItemChange change, ItemPrecondition precondition, CancellationToken cancellation = default);

    // The reads interleave with a write in progress: an Upsert waits on the catalogue, and an activation holding the
    // catalogue reads item details, so a read queued behind the write would deadlock the two until they time out.
    [Alias("Get"), AlwaysInterleave]
    Task<ItemView?> Get();

    [Alias("Exists"), AlwaysInterleave]
    Task<bool> Exists();

    /// <summary>
    /// Deletes the item: its details (its own and its bulk-loaded copy) are erased, and it leaves every version's
    /// shards and lists; histories keep its id. Idempotent: answers whether there were details to erase, and a repeat
    /// after a failure completes what the first attempt left.
    /// </summary>
    [Alias("Delete")]
    Task<bool> Delete();

    /// <summary>
    /// <see cref="Delete"/>, made only while the item is stored at one of <paramref name="precondition"/>'s versions; an
    /// item not stored is deleted already (the outcome says Deleted false), whatever the precondition named.
    /// </summary>
    [Alias("DeleteIf")]
    Task<ItemDeletion> DeleteIf(ItemPrecondition precondition);

    /// <summary>
    /// Erases the item's own details (not its bulk-loaded copy, nor its place in the catalogue: the caller removes
    /// those, as <see cref="Delete"/> does); whether there were any.
    /// </summary>
    [Alias("EraseOwnDetails")]
    Task<bool> EraseOwnDetails();

    /// <summary>
    /// Whether the item has details stored, asked by the catalogue as it deletes the item or lists it soon after a
    /// deletion (a write that stored it again since keeps it listed). An activation that holds nothing is not kept.
    /// </summary>
    [Alias("StoredAfterDeletion"), AlwaysInterleave]
    Task<bool> StoredAfterDeletion();

    /// <summary>The stored details without a placement lookup (null when the item is unknown).</summary>
    [Alias("GetDetails"), AlwaysInterleave]
    Task<ItemDetails?> GetDetails();

    /// <summary>
    /// The stored details, for a reader that will not ask again soon (a model activation reads every item once) and
    /// has read the item's bulk-loaded copy from its bucket already, many items at a time (null: there is none).
    /// </summary>
    [Alias("GetDetailsOnceGivenBulkCopy"), AlwaysInterleave]
    Task<ItemDetails?> GetDetailsOnce(BulkItem? bulkCopy);
}

/// <summary>A front end's copy of the scenarios, told of each change as soon as it is stored (<see cref="IScenariosGrain.Watch"/>).</summary>
[Alias("recommender.IScenarioObserver")]
public interface IScenarioObserver : IGrainObserver
{
    [Alias("Changed")]
    void Changed(ScenarioSet set);
}

/// <summary>
/// The cluster's scenarios (named list rules), one activation for the whole cluster: front ends read the set and keep
/// it for a second, so reads do not all call it, and watch it for changes.
/// </summary>
[Alias("recommender.IScenariosGrain")]
public interface IScenariosGrain : IGrainWithStringKey
{
    [Alias("GetAll"), AlwaysInterleave]
    Task<ScenarioSet> GetAll();

    /// <summary>
    /// Tells <paramref name="observer"/> of every change of the scenarios from now on (the set as it stands after it) for two
    /// minutes, and again from each further call (a front end renews its watch well within them, and after a failure;
    /// this activation's watches end with it); returns the set now.
    /// </summary>
    [Alias("Watch"), AlwaysInterleave]
    Task<ScenarioSet> Watch(IScenarioObserver observer);

    /// <summary>
    /// Stores <paramref name="scenario"/> under <paramref name="name"/>, replacing any, when <paramref name="precondition"/>
    /// holds; refused when it does not, or when the cluster already keeps the most it may and this is a new one. Each
    /// change is kept in the history with its <paramref name="author"/>.
    /// </summary>
    [Alias("PutIf")]
    Task<ScenarioWritten> Put(string name, Scenario scenario, ScenarioPrecondition precondition, ScenarioAuthor author);

    /// <summary>Removes the scenario when <paramref name="precondition"/> holds; not changed when there was none of that name.</summary>
    [Alias("DeleteIf")]
    Task<ScenarioWritten> Delete(string name, ScenarioPrecondition precondition, ScenarioAuthor author);

    /// <summary>
    /// Stores every scenario of <paramref name="changes"/> and deletes those given as null, in one write; with
    /// <paramref name="replaceAll"/>, deletes every other scenario too. A dry run says what would change and changes
    /// nothing. Refused, with nothing changed, when the cluster would then keep more than it may, or when the set is
    /// not at a revision <paramref name="precondition"/> names.
    /// </summary>
    [Alias("ApplyIf")]
    Task<ScenariosApplied> Apply(Dictionary<string, Scenario?> changes, bool replaceAll, bool dryRun, ScenarioPrecondition precondition, ScenarioAuthor author);

    // The unconditional forms, as front ends of the previous release call them during a rolling update (new front ends
    // call the forms above, which a silo of the previous release refuses rather than making a conditional change unconditionally).

    /// <summary>Stores the scenario; null when the cluster already keeps the most it may and this is a new one.</summary>
    [Alias("Put")]
    Task<ScenarioSet?> Put(string name, Scenario scenario);

    /// <summary>Removes the scenario; false when there was none of that name.</summary>
    [Alias("Delete")]
    Task<bool> Delete(string name);

    /// <summary>The change of several scenarios without a condition; null when the cluster would then keep more than it may.</summary>
    [Alias("Apply")]
    Task<ScenariosApplied?> Apply(Dictionary<string, Scenario?> changes, bool replaceAll, bool dryRun);

    /// <summary>
    /// The newest <paramref name="limit"/> changes, newest first, with the rules each changed before and after; with
    /// <paramref name="scenario"/>, only that scenario's changes.
    /// </summary>
    [Alias("History"), AlwaysInterleave]
    Task<ScenarioHistory> History(int limit, string? scenario);

    /// <summary>The scenarios as they were at <paramref name="revision"/>; null when that is later than now or earlier than the history reaches.</summary>
    [Alias("At"), AlwaysInterleave]
    Task<ScenarioSet?> At(long revision);

    /// <summary>
    /// Makes the scenarios what they were at <paramref name="revision"/>, as one change (a new revision, like any other),
    /// each restored scenario stored as of now; refused when the history does not reach that revision or
    /// <paramref name="precondition"/> does not hold. A dry run says what would change and changes nothing.
    /// </summary>
    [Alias("Restore")]
    Task<ScenariosApplied> Restore(long revision, bool dryRun, ScenarioPrecondition precondition, ScenarioAuthor author);
}

/// <summary>
/// The registry: the active model version, where every item's vector lives, the popularity list and whether the
/// demo has been loaded. A singleton (key 0); hot paths read it through each silo's cached snapshot.
/// </summary>
[Alias("recommender.ICatalogueGrain")]
public interface ICatalogueGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Interleaves with a running activation, so that reads see the old pointer until the new version is ready.
    /// Without the hidden ids (<see cref="GetSnapshotSince"/> has them).
    /// </summary>
    [Alias("GetSnapshot"), AlwaysInterleave]
    Task<CatalogueSnapshot> GetSnapshot();

    /// <summary>
    /// The snapshot, with the hidden ids when they are not the set the caller holds (<paramref name="hiddenToken"/>,
    /// the <see cref="CatalogueSnapshot.HiddenToken"/> of the snapshot they came with; 0: none).
    /// </summary>
    [Alias("GetSnapshotSince"), AlwaysInterleave]
    Task<CatalogueSnapshot> GetSnapshotSince(long hiddenToken);

    /// <summary>Validates a package fully (manifest, embeddings, ONNX contract) and stores it under models/{version}; nothing is written when it is invalid.</summary>
    [Alias("RegisterModel")]
    Task<ModelRegistration> RegisterModel(Immutable<ModelUpload> upload);

    /// <summary>
    /// Registers a placed package that <see cref="IPlacedPackageGrain"/> has checked in <paramref name="staging"/>: moves
    /// it into the models directory and records it (a conflict when the version is registered already). It may wait
    /// while an activation commits, or behind another registration, hence the longer timeout.
    /// </summary>
    [Alias("AdoptPlacedModel"), ResponseTimeout("00:05:00")]
    Task<ModelRegistration> AdoptPlacedModel(Immutable<ModelInfo> checkedModel, string staging);

    /// <summary>
    /// Registers a package already stored under models/{version} (the demo's baseline) without activating it;
    /// <paramref name="fallback"/> marks it as where a rollback goes when no version was active before. Idempotent.
    /// </summary>
    [Alias("RegisterStoredModel")]
    Task<ModelInfo> RegisterStoredModel(string version, bool fallback);

    /// <summary>
    /// Deletes a version that does not serve: its registration, its package directory and the rows its shards and
    /// placements kept. The active version, one being activated and one retired less than the retire grace ago are
    /// refused. A deleted version's name is never registered again, so no silo can mistake another package for it.
    /// </summary>
    [Alias("DeleteModel")]
    Task<ModelDeletion> DeleteModel(string version);

    [Alias("ListModels"), AlwaysInterleave]
    Task<IReadOnlyList<ModelInfo>> ListModels();

    [Alias("GetModel"), AlwaysInterleave]
    Task<ModelInfo?> GetModel(string version);

    /// <summary>
    /// Makes a stored version the active one over <paramref name="shards"/> shards (0 = the configured count): loads
    /// every shard of the new version in parallel and moves the pointer only when all report ready. A catalogue of
    /// several hundred thousand items takes longer than the default 30-s response timeout, and the caller should get
    /// the result, not a timeout while the activation goes on; hence the longer one. Interleaves with the grain's other
    /// requests, so that item writes go on while the shards are built (activations themselves run one at a time).
    /// </summary>
    [Alias("ActivateModel"), ResponseTimeout("00:10:00"), AlwaysInterleave]
    Task<ActivationResult> ActivateModel(string version, int shards);

    /// <summary>
    /// Serves <paramref name="version"/> to <paramref name="share"/> of the users (0 to 1, by a fixed draw per user and
    /// version) beside the active version, over <paramref name="shards"/> shards of its own (0 = the configured
    /// count), built as an activation builds them; item writes reach them from then on. A version already the
    /// candidate only takes the new share. Refused (<see cref="InvalidOperationException"/>) for the active version.
    /// An activation or rollback ends it; the model it returns is the candidate.
    /// </summary>
    [Alias("StartCandidate"), ResponseTimeout("00:10:00"), AlwaysInterleave]
    Task<ActivationResult> StartCandidate(string version, double share, int shards);

    /// <summary>Stops serving <paramref name="version"/> to a share of the users; null when it is not the candidate.</summary>
    [Alias("StopCandidate"), ResponseTimeout("00:10:00"), AlwaysInterleave]
    Task<ModelCandidate?> StopCandidate(string version);

    /// <summary>Where <see cref="Rollback"/> would go now: the most recent previously active version, else the fallback; null when nowhere.</summary>
    [Alias("GetRollbackTarget"), AlwaysInterleave]
    Task<string?> GetRollbackTarget();

    /// <summary>Activates the previously active version (the fallback version when there is no earlier one); as long as an activation.</summary>
    [Alias("Rollback"), ResponseTimeout("00:10:00"), AlwaysInterleave]
    Task<ActivationResult> Rollback(int shards);

    /// <summary>Places items in the active model's shards: model items in their fixed shard, others (with a vector) where there is most room.</summary>
    [Alias("PlaceItems")]
    Task<IReadOnlyList<ItemPlacement?>> PlaceItems(Immutable<ShardEntry[]> entries);

    [Alias("GetPlacement"), AlwaysInterleave]
    Task<ItemPlacement?> GetPlacement(string itemId);

    /// <summary>Which of the items, none of them in the active version's vocabulary, that version has placed (by their embedding or text), with the version.</summary>
    [Alias("PlacedAmong"), AlwaysInterleave]
    Task<PlacedItems> PlacedAmong(Immutable<string[]> itemIds);

    [Alias("SetPopular")]
    Task SetPopular(Immutable<PopularItem[]> items);

    /// <summary>Marks items hidden (never recommended, under any version) or visible again; writes only when something changed.</summary>
    [Alias("SetHidden")]
    Task SetHidden(Immutable<string[]> hidden, Immutable<string[]> visible);

    /// <summary>
    /// Takes deleted items out of the catalogue: out of every serving version's shards (a trained row stays, listed by
    /// no item, as an item the catalogue never held), out of the popular list at once, and forgotten as hidden, text or
    /// scheduled items. Writing the item again places it as a new one. Idempotent.
    /// </summary>
    [Alias("RemoveItems")]
    Task RemoveItems(Immutable<string[]> itemIds);

    /// <summary>Claims the one-off demo load for <paramref name="owner"/>; false when it is done or another owner holds a live claim.</summary>
    [Alias("TryClaimSeeding")]
    Task<bool> TryClaimSeeding(string owner);

    [Alias("CompleteSeeding")]
    Task CompleteSeeding(string owner, int itemCount);
}

/// <summary>
/// Registers packages too large to upload, placed by an operator in the incoming directory: the checks (reading up
/// to gigabytes and running the encoder) run here, on any silo, so the catalogue is never held up by them.
/// </summary>
[Alias("recommender.IPlacedPackageGrain")]
public interface IPlacedPackageGrain : IGrainWithIntegerKey
{
    /// <summary>Checks the package placed for <paramref name="version"/> as an upload is checked, then registers it.</summary>
    [Alias("Register"), ResponseTimeout("00:30:00")]
    Task<ModelRegistration> Register(string version);
}

/// <summary>A partition of one model version's item vectors. Key: "{version}/{shard index}".</summary>
[Alias("recommender.IItemShardGrain")]
public interface IItemShardGrain : IGrainWithStringKey
{
    /// <summary>The top <paramref name="k"/> rows by similarity to <paramref name="query"/> (float32 bytes), skipping <paramref name="exclude"/>.</summary>
    [Alias("TopK")]
    Task<Immutable<ScoredItem[]>> TopK(Immutable<byte[]> query, ScanFilter filter);

    /// <summary>Loads the shard (package rows) and applies the entries carried over from the previous version; returns each entry's row once ready.</summary>
    [Alias("Prepare")]
    Task<int[]> Prepare(Immutable<ShardEntry[]> entries);

    /// <summary>Everything persisted on top of the package rows: titles, tags and the vectors of added items.</summary>
    [Alias("GetEntries")]
    Task<Immutable<ShardEntry[]>> GetEntries();

    /// <summary>The version is no longer active: deactivate once <paramref name="grace"/> has passed (in-flight requests finish first).</summary>
    [Alias("Retire")]
    Task Retire(TimeSpan grace);

    /// <summary>Adds or updates rows; returns each entry's row.</summary>
    [Alias("Upsert")]
    Task<int[]> Upsert(Immutable<ShardEntry[]> entries);

    /// <summary>Unlists the rows of deleted items (no scan returns them, no entry carries them to the next version); answers how many it held.</summary>
    [Alias("Remove")]
    Task<int> Remove(Immutable<string[]> itemIds);

    /// <summary>Model rows that no catalogue item lists (not recommended).</summary>
    [Alias("UnlistedCount")]
    Task<int> UnlistedCount();

    /// <summary>The stored vector of an item (normalised when the model scores by cosine), or null.</summary>
    [Alias("GetVector")]
    Task<Immutable<byte[]>?> GetVector(string itemId);

    [Alias("Count")]
    Task<int> Count();

    /// <summary>The stored vectors (normalised when the model scores by cosine) and titles of those of <paramref name="itemIds"/> this shard holds.</summary>
    [Alias("GetVectors")]
    Task<ShardVectors> GetVectors(Immutable<string[]> itemIds);

    /// <summary>Whether a row this shard may return (listed, not hidden, available) carries <paramref name="tag"/> (ignoring case).</summary>
    [Alias("ListsTag")]
    Task<bool> ListsTag(string tag);

    /// <summary>
    /// The newest <see cref="ScanFilter.K"/> rows by their items' availableFrom (ties by id) that a scan may return under
    /// the filter's exclusions, tags and maximum age, each with its <see cref="ScoredItem.AvailableFrom"/>; undated rows are not listed.
    /// </summary>
    [Alias("Latest")]
    Task<Immutable<ScoredItem[]>> Latest(ScanFilter filter);

    /// <summary>The first <paramref name="k"/> items this shard holds whose title holds <paramref name="text"/> (ignoring case), hidden ones too, closest first.</summary>
    [Alias("FindTitles")]
    Task<Immutable<FoundItem[]>> FindTitles(string text, int k);
}

/// <summary>
/// Writes a batch of items in one pass (POST /items): encodes their texts in batches, stores each item, then places
/// them all with one catalogue call. A pool of stateless workers on every silo.
/// </summary>
[Alias("recommender.IItemBatchGrain")]
public interface IItemBatchGrain : IGrainWithIntegerKey
{
    /// <summary>Stores and places the items (validated by the caller); views in the order given.</summary>
    [Alias("Upsert")]
    Task<Immutable<ItemView[]>> Upsert(Immutable<ItemDetails[]> items);

    /// <summary>Deletes the items (distinct ids, checked by the caller) as <see cref="IItemGrain.Delete"/> does, with one catalogue call; whether each was there.</summary>
    [Alias("Delete")]
    Task<bool[]> Delete(Immutable<string[]> itemIds);
}

/// <summary>Turns histories into interest vectors with the model's ONNX encoder; a pool of stateless workers on every silo.</summary>
[Alias("recommender.IInferenceGrain")]
public interface IInferenceGrain : IGrainWithIntegerKey
{
    /// <summary>The interest vector (float32 bytes) of a chronological history of external item ids; ids outside the model's vocabulary are skipped.</summary>
    [Alias("Encode")]
    Task<Immutable<byte[]>> Encode(string modelVersion, Immutable<string[]> history);
}

/// <summary>
/// Recommendations for a history the caller sends rather than one stored (an anonymous visitor's session); stateless,
/// a pool on every silo, writes nothing.
/// </summary>
[Alias("recommender.ISessionGrain")]
public interface ISessionGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Top-K for the chronological <paramref name="items"/> under the active model, ranked as a user's with that
    /// history would be, or the popularity list when none of them is known to the model. A request withdrawn through
    /// <paramref name="cancellation"/> before it is served is dropped.
    /// </summary>
    [Alias("Recommend")]
    Task<Ranking> Recommend(Immutable<string[]> items, RecommendationRequest request, CancellationToken cancellation = default);

    /// <summary>
    /// As <see cref="Recommend"/>, under the version that serves <paramref name="visitorId"/> as it would a user of
    /// that id: a candidate's for the visitors drawn for it, else (and without an id) the active one.
    /// </summary>
    [Alias("RecommendFor")]
    Task<Ranking> RecommendFor(Immutable<string[]> items, string? visitorId, RecommendationRequest request, CancellationToken cancellation = default);
}

/// <summary>Fans a query out to all shards of a model version and merges to the global top-K; stateless, runs beside its caller.</summary>
[Alias("recommender.ISearchGrain")]
public interface ISearchGrain : IGrainWithIntegerKey
{
    /// <summary>Searches the shards of exactly <paramref name="model"/> (the version the caller read once for the whole request).</summary>
    [Alias("Search")]
    Task<Ranking> Search(ActiveModel model, Immutable<byte[]> query, ScanFilter filter, RankingSource source);

    /// <summary>Items nearest to an item's own vector (the unfiltered form, as front ends of the previous release ask).</summary>
    [Alias("Similar")]
    Task<Ranking?> Similar(string itemId, int k);

    /// <summary>Items nearest to an item's own vector, under <paramref name="filter"/> (the item itself is always left out).</summary>
    [Alias("SimilarFiltered")]
    Task<Ranking?> Similar(string itemId, ScanFilter filter);

    /// <summary>The active version's newest items under <paramref name="filter"/> (its depth, offset, exclusions, tags and maximum age); null before any version is active.</summary>
    [Alias("Latest")]
    Task<LatestItems?> Latest(ScanFilter filter);

    /// <summary>The active version's first <paramref name="k"/> items whose title holds <paramref name="text"/>, closest first; null before any version is active.</summary>
    [Alias("FindTitles")]
    Task<FoundItems?> FindTitles(string text, int k);
}

/// <summary>
/// Bulk-loaded item details (the demo seed, POST /items), grouped by <see cref="ItemBuckets.Of"/> so that a batch is
/// one call and one transaction per bucket, stored one row per item so that its cost does not grow with the
/// catalogue. An item grain serves the newer of its own state (PUT /items/{id}) and its bucket's copy.
/// </summary>
[Alias("recommender.IItemBucketGrain")]
public interface IItemBucketGrain : IGrainWithIntegerKey
{
    [Alias("Import")]
    Task Import(Immutable<ItemDetails[]> items);

    /// <summary>Imports as <see cref="Import"/> does and answers each item's embedding afterwards: the one given, or the one kept from before.</summary>
    [Alias("ImportKeepingEmbeddings")]
    Task<Immutable<byte[]?[]>> ImportKeepingEmbeddings(Immutable<ItemDetails[]> items);

    // Reads interleave with each other and with a running write: they read committed rows only.
    [Alias("Get"), AlwaysInterleave]
    Task<ItemDetails?> Get(string itemId);

    /// <summary>The bulk-loaded details of an item with the time they were imported (null when the item was not bulk-loaded).</summary>
    [Alias("Find"), AlwaysInterleave]
    Task<BulkItem?> Find(string itemId);

    /// <summary>The bulk-loaded details of each of the items, in their order (null for an item not bulk-loaded).</summary>
    [Alias("FindMany"), AlwaysInterleave]
    Task<Immutable<BulkItem?[]>> FindMany(Immutable<string[]> itemIds);

    /// <summary>Whether each of the items was bulk-loaded into this bucket.</summary>
    [Alias("Contains"), AlwaysInterleave]
    Task<bool[]> Contains(Immutable<string[]> itemIds);

    /// <summary>Erases the bulk-loaded copies of the items (those not bulk-loaded are passed over); whether each had one.</summary>
    [Alias("Remove")]
    Task<bool[]> Remove(Immutable<string[]> itemIds);
}

/// <summary>
/// One partition of the time-decayed popularity counts (key: 0..P-1, by item hash). Silos flush their local
/// accumulators here every few seconds, so no single grain takes every event.
/// </summary>
[Alias("recommender.IPopularityGrain")]
public interface IPopularityGrain : IGrainWithIntegerKey
{
    [Alias("Add")]
    Task Add(Immutable<PopularityDelta[]> deltas);

    /// <summary>The partition's <paramref name="count"/> highest decayed scores, best first.</summary>
    [Alias("Top")]
    Task<Immutable<PopularityScore[]>> Top(int count);
}

/// <summary>
/// An anonymous visitor's last list and what they did next, from their sessions (key: the session's visitorId); in
/// memory only, told by the session grains without waiting.
/// </summary>
[Alias("recommender.IVisitorGrain")]
public interface IVisitorGrain : IGrainWithStringKey
{
    /// <summary>
    /// A session of <paramref name="items"/> (as sent) was served <paramref name="ranking"/>; <paramref name="list"/>
    /// says what makes requests pages of one list, <paramref name="arm"/> the side of a running A/B test.
    /// </summary>
    [Alias("Served"), OneWay]
    Task Served(Immutable<string[]> items, Ranking ranking, int offset, string list, ExperimentArm? arm, string? scenario = null);
}

/// <summary>
/// The outcome counts of a version's latest run as a candidate (key: the candidate version): each silo sends what its
/// user grains counted every few seconds, so no grain sees every event; persisted on every flush.
/// </summary>
[Alias("recommender.IExperimentGrain")]
public interface IExperimentGrain : IGrainWithStringKey
{
    /// <summary>Adds a silo's counts; counts of an earlier run than the one held are dropped, of a later one replace it.</summary>
    [Alias("Add")]
    Task Add(ExperimentTally counts);

    /// <summary>
    /// <see cref="Add"/> for the silo's flush <paramref name="flush"/>, once: the same flush sent again (its answer
    /// lost after it was stored) is not counted again.
    /// </summary>
    [Alias("AddOnce")]
    Task AddOnce(Guid flush, ExperimentTally counts);

    /// <summary>The counts of the latest run (null: none counted).</summary>
    [Alias("Get")]
    Task<ExperimentTally?> Get();

    /// <summary>Forgets the counts (the version was deleted).</summary>
    [Alias("Clear")]
    Task Clear();
}

/// <summary>Which users have events (key: 0..P-1, by user hash): the export walks it to stream every history.</summary>
[Alias("recommender.IUserDirectoryGrain")]
public interface IUserDirectoryGrain : IGrainWithIntegerKey
{
    [Alias("Add")]
    Task Add(string userId);

    /// <summary>Adds users in one write (the backfill from storage).</summary>
    [Alias("AddRange")]
    Task AddRange(Immutable<string[]> userIds);

    [Alias("List")]
    Task<Immutable<string[]>> List();

    [Alias("Remove")]
    Task Remove(string userId);
}

/// <summary>
/// One partition of the event journal, which makes a batch for several users all-or-nothing: the batch is stored
/// whole before any user grain is called, and a user whose write fails is retried from it until the write succeeds.
/// Key: 0 to <see cref="Partitions.EventJournal"/> − 1.
/// </summary>
[Alias("recommender.IEventJournalGrain")]
public interface IEventJournalGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Stores the batch, then hands each user's events to the user grain. Throws, having written nothing, when the
    /// batch cannot be stored; once it is stored, failed users are reported as pending, not thrown.
    /// </summary>
    [Alias("Ingest")]
    Task<BatchIngestResult> Ingest(Immutable<UserEvents[]> batch);

    /// <summary>Hands the pending users' events to their grains again; returns how many batches are still pending.</summary>
    [Alias("Retry")]
    Task<int> Retry();

    /// <summary>Drops the user's pending events (the user is being erased) and persists that before returning.</summary>
    [Alias("Forget")]
    Task Forget(string userId);

    /// <summary>Drops the user's pending events that <paramref name="removal"/> names and persists that before returning.</summary>
    [Alias("ForgetEvents")]
    Task ForgetEvents(string userId, EventRemoval removal);
}

/// <summary>
/// Completes the user directory from grain storage, so that users stored before the directory existed (or otherwise
/// not listed) are exported too; returns how many were added. The export runs it first.
/// </summary>
[Alias("recommender.IUserDirectoryBackfillGrain")]
public interface IUserDirectoryBackfillGrain : IGrainWithIntegerKey
{
    [Alias("Backfill")]
    Task<int> Backfill();
}

/// <summary>The id of every item the catalogue holds, read from grain storage, for the catalogue export.</summary>
[Alias("recommender.IItemListingGrain")]
public interface IItemListingGrain : IGrainWithIntegerKey
{
    /// <summary>Each id once, bulk-loaded items first, in no other order.</summary>
    [Alias("ListIds")]
    Task<Immutable<string[]>> ListIds();
}

/// <summary>
/// One caller's request allowance across every front end (<c>Recommender:RateLimit:Scope</c> = <c>Cluster</c>): a token
/// bucket the front ends take from in small leases, so that n front ends together let a caller send the rate, not n
/// times it. Keyed by the caller ("client key 2", "address 10.0.0.7"). Kept in memory: a new activation starts full.
/// </summary>
public interface IRateLimitGrain : IGrainWithStringKey
{
    /// <summary>Takes up to <paramref name="wanted"/> requests from a bucket of <paramref name="burst"/> refilled at <paramref name="requestsPerSecond"/>.</summary>
    [Alias("Take")]
    Task<RateLease> Take(int wanted, int requestsPerSecond, int burst);
}

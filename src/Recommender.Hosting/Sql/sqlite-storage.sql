-- Orleans ADO.NET grain storage on SQLite: the query table the provider reads at start-up, the storage table,
-- and the three queries of the grain-persistence contract. Safe to run again: tables are created only when
-- missing and the query texts are replaced with the current ones.
-- Parameters arrive by name (@Name). Integer-keyed grains have no extension string: it is stored as '' so that
-- the unique key over the grain identity holds for them too (SQLite treats NULLs as distinct in a UNIQUE key).

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  TEXT NOT NULL PRIMARY KEY,
    QueryText TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            INTEGER NOT NULL,
    GrainIdN0              INTEGER NOT NULL,
    GrainIdN1              INTEGER NOT NULL,
    GrainTypeHash          INTEGER NOT NULL,
    GrainTypeString        TEXT    NOT NULL,
    GrainIdExtensionString TEXT    NOT NULL,
    ServiceId              TEXT    NOT NULL,
    PayloadBinary          BLOB,
    ModifiedOn             TEXT    NOT NULL,
    Version                INTEGER NOT NULL,
    CONSTRAINT UQ_OrleansStorage_Grain
        UNIQUE (ServiceId, GrainTypeHash, GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeString, GrainIdExtensionString)
);

-- Read: at most one row, PayloadBinary and Version.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadFromStorageKey', '
SELECT PayloadBinary, Version
FROM OrleansStorage
WHERE ServiceId = @ServiceId
  AND GrainTypeHash = @GrainTypeHash
  AND GrainIdHash = @GrainIdHash
  AND GrainIdN0 = @GrainIdN0
  AND GrainIdN1 = @GrainIdN1
  AND GrainTypeString = @GrainTypeString
  AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '''')
LIMIT 1;');

-- Write with optimistic concurrency. The first write (no version sent) inserts version 1; a later write updates
-- the row only when the stored version equals the one sent, and bumps it. Exactly one row comes back: the new
-- version, or NULL when nothing was written (a version conflict, which Orleans reports as such).
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('WriteToStorageKey', '
INSERT INTO OrleansStorage
    (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
SELECT @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, COALESCE(@GrainIdExtensionString, ''''), @ServiceId,
       @PayloadBinary, strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now''), 1
WHERE @GrainStateVersion IS NULL
   OR EXISTS (SELECT 1 FROM OrleansStorage
              WHERE ServiceId = @ServiceId
                AND GrainTypeHash = @GrainTypeHash
                AND GrainIdHash = @GrainIdHash
                AND GrainIdN0 = @GrainIdN0
                AND GrainIdN1 = @GrainIdN1
                AND GrainTypeString = @GrainTypeString
                AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, ''''))
ON CONFLICT (ServiceId, GrainTypeHash, GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeString, GrainIdExtensionString)
DO UPDATE SET PayloadBinary = excluded.PayloadBinary,
              ModifiedOn = excluded.ModifiedOn,
              Version = OrleansStorage.Version + 1
WHERE OrleansStorage.Version = @GrainStateVersion;
SELECT CASE WHEN changes() > 0 THEN COALESCE(@GrainStateVersion, 0) + 1 END AS NewGrainStateVersion;');

-- Clear: the payload goes, the row and its version stay (and the version is bumped), under the same version check.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ClearStorageKey', '
UPDATE OrleansStorage
SET PayloadBinary = NULL,
    ModifiedOn = strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now''),
    Version = Version + 1
WHERE ServiceId = @ServiceId
  AND GrainTypeHash = @GrainTypeHash
  AND GrainIdHash = @GrainIdHash
  AND GrainIdN0 = @GrainIdN0
  AND GrainIdN1 = @GrainIdN1
  AND GrainTypeString = @GrainTypeString
  AND GrainIdExtensionString = COALESCE(@GrainIdExtensionString, '''')
  AND Version = @GrainStateVersion;
SELECT CASE WHEN changes() > 0 THEN @GrainStateVersion + 1 END AS NewGrainStateVersion;');

-- Bulk-loaded items (POST /items, the demo and seed loads), one row each, so that a bulk write costs what it writes
-- however large the catalogue. Payload is the item's details in the Orleans binary format; ImportedAt is UTC ticks
-- (100 ns), exact, so that the newer of a bulk load and a PUT of the same item wins. Bucket is the item's bucket
-- (src/Recommender.Abstractions/ItemBuckets.cs), whose grain reads its ids on activation.
CREATE TABLE IF NOT EXISTS RecommenderBulkItems
(
    ServiceId  TEXT    NOT NULL,
    ItemId     TEXT    NOT NULL,
    Bucket     INTEGER NOT NULL,
    Payload    BLOB    NOT NULL,
    ImportedAt INTEGER NOT NULL,
    -- A rowid table with a unique key, not WITHOUT ROWID: rows of 1-2 kB fill a key's b-tree pages poorly.
    CONSTRAINT UQ_RecommenderBulkItems UNIQUE (ServiceId, ItemId)
);

CREATE INDEX IF NOT EXISTS IX_RecommenderBulkItems_Bucket ON RecommenderBulkItems (ServiceId, Bucket);

-- Rows a grain keeps beside its grain state, one per owner and key (a shard's entries, the catalogue's placements of
-- added items and its text items), so that writing one item costs one row however large the catalogue. Payload is
-- the value in the Orleans binary format. Seq (the rowid) keeps the order in which keys were first written: an
-- upsert updates the row in place, and a shard replays its entries in that order to give every item its row again.
CREATE TABLE IF NOT EXISTS RecommenderGrainRows
(
    Seq       INTEGER PRIMARY KEY,
    ServiceId TEXT    NOT NULL,
    Owner     TEXT    NOT NULL,
    RowKey    TEXT    NOT NULL,
    Payload   BLOB    NOT NULL,
    CONSTRAINT UQ_RecommenderGrainRows UNIQUE (ServiceId, Owner, RowKey)
);

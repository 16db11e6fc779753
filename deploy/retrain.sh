#!/usr/bin/env bash
# A retraining job: the catalogue and the history read from a running cluster, a model trained on them, and the model
# served only when it is good enough. Run it from cron, as the Kubernetes CronJob (deploy/kubernetes/50-retrain.yaml) in
# the command-line image (deploy/docker/Dockerfile.cli), or by hand:
#
#   API=http://localhost:5000 deploy/retrain.sh
#
# Steps (the recommender command line):
#   export-items -> encode-text --items (the items' texts, so that the model places items nobody has touched)
#   export-events -> split (each user's last event held out for validation; with HOLD_OUT=last-two, the last for
#   test and the one before it for validation)
#   train (early-stopped on validation; the package records val_ndcg@10) -> publish --activate, which holds the
#   package back (exit code 3) when its val_ndcg@10 is below MIN_VAL_NDCG or below the active version's by more than
#   TOLERANCE (or publish --candidate with CANDIDATE_SHARE).
#
# Settings (environment):
#   API              base address of the HTTP API (http://127.0.0.1:5000)
#   RECOMMENDER_API_KEY  an admin key, when the cluster has keys (exports and model uploads need one)
#   RECOMMENDER      how to run the command line (default: `recommender` on the PATH, else the repository's Release
#                    build, else `dotnet run` of its project)
#   WORK             scratch directory (a new temporary one, removed at the end unless KEEP=1)
#   VERSION          the new package's version (retrain-<UTC time>)
#   ITEM_TEXT        id+text (default: ids and the items' texts) or id (ids only: items added later are then not
#                    recommendable by this version until they have events)
#   MIN_VAL_NDCG     the least val_ndcg@10 a package must have to be sent at all (0.01)
#   COMPARE          the metric compared with the active version's (val_ndcg@10; empty: no comparison): with INCOMING,
#                    both versions are scored on this run's validation users (the active one read from the models
#                    directory); without it, each version's score recorded when it was trained is compared
#   TOLERANCE        how far below the active version's metric the new one may be (0.005)
#   TEXT_CACHE       a file kept between runs (the CronJob's is on the silos' volume): the texts it holds keep their
#                    vectors and only new and changed items are encoded (a catalogue of 9,742 items takes about
#                    half a minute to encode on two cores; unchanged, about two seconds)
#   INCOMING         the cluster's incoming model directory ({DataDirectory}/models/.incoming, where this job can write
#                    to the silos' shared storage): the package is placed there and registered instead of uploaded,
#                    which a package past the API's 64 MiB upload limit needs (about 130,000 items at dimension 64)
#   TIME_LIMIT       minutes of training at most (30); EPOCHS (200), PATIENCE (10), DIM (64), MAX_LENGTH (200),
#                    BLOCKS (2), DROPOUT (0.2), BATCH_SIZE (128), THREADS (the machine's cores), SEED (42)
#   HOLD_OUT         last (default): each user's last event is the validation target, and the model learns from all
#                    the others; last-two: the last event is held out for a test score as well (reported, not used
#                    by the gates), and the model learns from all but two events of each user
#   MIN_USER_EVENTS  users with fewer events are left out (unset: none; users with fewer events than are held out,
#                    plus one, train only)
#   TRAIN_ARGS       further train options, as one string (e.g. "--exclude-seen --recency-bias")
#   KEEP_VERSIONS    after publishing, delete all but this many of the versions named PRUNE_PREFIX... (7; empty:
#                    delete none); the active version, the rollback target and the fallback are never deleted, and a
#                    package held back counts as one of them, so a week of nightly runs stays in the models directory
#   PRUNE_PREFIX     the versions pruning considers (retrain-, the names this job gives)
#   CANDIDATE_SHARE  instead of activating the package, serve it to this share of the users (above 0, at most 1)
#                    beside the active version, for an A/B test (publish --candidate; it replaces the candidate
#                    before it); MIN_VAL_NDCG still applies, COMPARE does not. Pruning never deletes the candidate.
#   AB_MIN_EVENTS    with CANDIDATE_SHARE: the A/B test's length, in users' next events on each side. A run first
#                    decides the running test (candidate-results --decide): before that length it changes nothing and
#                    trains no model; from then on the candidate is activated if its hit rate is higher at AB_ALPHA
#                    (0.05) and its dismissals per list are not, stopped otherwise, and the new package becomes the
#                    next candidate. Unset, each run's
#                    package replaces the candidate, and the test is read and decided by hand.
#   AB_SEQUENTIAL    with CANDIDATE_SHARE, instead of AB_MIN_EVENTS: set to 1, a run decides the running test by its
#                    always-valid p-values (candidate-results --decide --sequential), which hold however often they
#                    are read: the candidate is activated as soon as its hit rate is higher at AB_ALPHA and its
#                    dismissals per list are not, and stopped as soon as either shows it worse; until then the run
#                    trains nothing. AB_MAX_EVENTS (next events on each side) stops a test that has shown no
#                    difference by then. Either way, a test whose users are not split as drawn (a sample ratio
#                    mismatch) is not decided: the run fails with exit code 4.
#   AB_GOAL          the rate either way of deciding judges the candidate by: hit-rate (the default: users' next
#                    events found in the list served before them), purchases (listed items bought within the
#                    next-item window, per list, for a shop) or revenue (the amount paid for them, the purchase
#                    events' values, per list); dismissals per list are a bar either way.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
API="${API:-http://127.0.0.1:5000}"
WORK="${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/retrain.XXXXXX")}"
VERSION="${VERSION:-retrain-$(date -u +%Y%m%d-%H%M%S)}"
ITEM_TEXT="${ITEM_TEXT:-id+text}"
MIN_VAL_NDCG="${MIN_VAL_NDCG:-0.01}"
COMPARE="${COMPARE-val_ndcg@10}"
TOLERANCE="${TOLERANCE:-0.005}"
HOLD_OUT="${HOLD_OUT:-last}"
KEEP_VERSIONS="${KEEP_VERSIONS-7}"
PRUNE_PREFIX="${PRUNE_PREFIX:-retrain-}"
mkdir -p "$WORK"
[[ "${KEEP:-0}" == 1 ]] || trap 'rm -rf "$WORK"' EXIT

if [[ -n "${RECOMMENDER:-}" ]]; then
    read -r -a CLI <<< "$RECOMMENDER"
elif command -v recommender > /dev/null; then
    CLI=(recommender)
elif [[ -f "$ROOT/artifacts/bin/Recommender.Cli/release/recommender.dll" ]]; then
    CLI=(dotnet "$ROOT/artifacts/bin/Recommender.Cli/release/recommender.dll")
else
    CLI=(dotnet run --project "$ROOT/src/Recommender.Cli" -c Release --)
fi
step() { printf '== %s\n' "$*"; }
case "$ITEM_TEXT" in
    id|id+text) ;;
    *) echo "ITEM_TEXT must be id or id+text, not '$ITEM_TEXT'." >&2; exit 1 ;;
esac
case "$HOLD_OUT" in
    last) HOLD_ARGS=(--no-test) ;;
    last-two) HOLD_ARGS=() ;;
    *) echo "HOLD_OUT must be last or last-two, not '$HOLD_OUT'." >&2; exit 1 ;;
esac

case "${AB_SEQUENTIAL:-}" in
    ''|0|1) ;;
    *) echo "AB_SEQUENTIAL must be 1 (or 0 or unset), not '$AB_SEQUENTIAL'." >&2; exit 1 ;;
esac
if [[ "${AB_SEQUENTIAL:-}" == 1 && -n "${AB_MIN_EVENTS:-}" ]]; then
    echo "AB_SEQUENTIAL and AB_MIN_EVENTS are two ways of deciding a test: set one." >&2
    exit 1
fi
case "${AB_GOAL:-}" in
    ''|hit-rate|purchases|revenue) ;;
    *) echo "AB_GOAL must be hit-rate, purchases or revenue, not '$AB_GOAL'." >&2; exit 1 ;;
esac
if [[ -n "${AB_GOAL:-}" && -z "${AB_MIN_EVENTS:-}" && "${AB_SEQUENTIAL:-}" != 1 ]]; then
    echo "AB_GOAL is the rate a test is decided by: set AB_MIN_EVENTS or AB_SEQUENTIAL=1 too." >&2
    exit 1
fi
if [[ -n "${AB_MAX_EVENTS:-}" && "${AB_SEQUENTIAL:-}" != 1 ]]; then
    echo "AB_MAX_EVENTS bounds a sequential test: set AB_SEQUENTIAL=1 too." >&2
    exit 1
fi
DECIDE=()
if [[ -n "${AB_MIN_EVENTS:-}" ]]; then
    DECIDE=(--min-events "$AB_MIN_EVENTS")
    DECIDING="each side needs $AB_MIN_EVENTS next events"
elif [[ "${AB_SEQUENTIAL:-}" == 1 ]]; then
    DECIDE=(--sequential ${AB_MAX_EVENTS:+--max-events "$AB_MAX_EVENTS"})
    DECIDING="by its always-valid p-values"
fi
if [[ -n "${AB_GOAL:-}" ]]; then
    DECIDING="$DECIDING, judged by $AB_GOAL"
fi
if [[ -n "${CANDIDATE_SHARE:-}" && ${#DECIDE[@]} -gt 0 ]]; then
    # One test at a time: a running one is decided once it has run its length (or shown a difference), and until
    # then the job waits for it.
    step "decide the running A/B test ($DECIDING)"
    decided=0
    "${CLI[@]}" candidate-results --api "$API" --decide "${DECIDE[@]}" ${AB_ALPHA:+--alpha "$AB_ALPHA"} ${AB_GOAL:+--goal "$AB_GOAL"} || decided=$?
    if [[ $decided == 3 ]]; then
        echo "The running A/B test continues: no new model this run."
        exit 0
    fi
    [[ $decided == 0 ]] || exit $decided
fi

step "export-events and export-items from $API"
"${CLI[@]}" export-events --api "$API" --out "$WORK/events.csv"
TEXT_ARGS=() SPLIT_ARGS=()
if [[ "$ITEM_TEXT" == id+text ]]; then
    "${CLI[@]}" export-items --api "$API" --out "$WORK/items.jsonl"
    step "encode-text --items (the catalogue's texts, composed as the cluster composes them)"
    ENCODE=(encode-text --items "$WORK/items.jsonl" --out "$WORK/text-vectors.tsv" ${THREADS:+--threads "$THREADS"})
    if [[ -n "${TEXT_CACHE:-}" && -s "$TEXT_CACHE" ]]; then
        # A cache that cannot be read costs one whole encoding, not the run.
        "${CLI[@]}" "${ENCODE[@]}" --reuse "$TEXT_CACHE" || { echo "$TEXT_CACHE could not be reused; encoding every text." >&2; "${CLI[@]}" "${ENCODE[@]}"; }
    else
        "${CLI[@]}" "${ENCODE[@]}"
    fi
    if [[ -n "${TEXT_CACHE:-}" ]]; then
        mkdir -p "$(dirname "$TEXT_CACHE")"
        cp "$WORK/text-vectors.tsv" "$TEXT_CACHE.tmp" && mv "$TEXT_CACHE.tmp" "$TEXT_CACHE"
    fi
    SPLIT_ARGS=(--text-vectors "$WORK/text-vectors.tsv")
    TEXT_ARGS=(--item-text id+text --item-text-file "$WORK/split/text-vectors.tsv" --item-id-dropout 0.5)
fi

if [[ "$HOLD_OUT" == last ]]; then step "split: each user's last event for validation"
else step "split: each user's last event for test, the one before it for validation"; fi
"${CLI[@]}" split --data "$WORK/events.csv" --format event-export ${MIN_USER_EVENTS:+--min-user-interactions "$MIN_USER_EVENTS"} \
    --out "$WORK/split" "${HOLD_ARGS[@]}" "${SPLIT_ARGS[@]}"

step "train $VERSION"
read -r -a EXTRA <<< "${TRAIN_ARGS:-}"
S="$WORK/split"
TEST_ARGS=()
[[ "$HOLD_OUT" == last ]] || TEST_ARGS=(--test-input "$S/test/input.txt" --test-output "$S/test/output.txt")
"${CLI[@]}" train --train "$S/train/input.txt" --val-input "$S/val/input.txt" --val-output "$S/val/output.txt" \
    "${TEST_ARGS[@]}" --item-ids "$S/items.tsv" "${TEXT_ARGS[@]}" \
    --loss ce --dim "${DIM:-64}" --max-length "${MAX_LENGTH:-200}" --blocks "${BLOCKS:-2}" --heads 1 --dropout "${DROPOUT:-0.2}" \
    --normalised-residual --positions-from-start --init-std 0.02 --lr 0.001 --beta2 0.999 --batch-size "${BATCH_SIZE:-128}" \
    --earlier-window-rate 0.5 --epochs "${EPOCHS:-200}" --patience "${PATIENCE:-10}" --time-limit "${TIME_LIMIT:-30}" \
    --seed "${SEED:-42}" ${THREADS:+--threads "$THREADS"} "${EXTRA[@]}" --out "$WORK/run" --export "$WORK/package" --version "$VERSION"

step "publish $VERSION"
PUBLISH_ARGS=(--min-metric "val_ndcg@10=$MIN_VAL_NDCG")
[[ -z "${INCOMING:-}" ]] || PUBLISH_ARGS+=(--incoming-directory "$INCOMING")
if [[ -n "${CANDIDATE_SHARE:-}" ]]; then
    # An A/B test decides, not the offline comparison.
    PUBLISH_ARGS+=(--candidate "$CANDIDATE_SHARE")
else
    PUBLISH_ARGS+=(--activate)
    [[ -z "$COMPARE" ]] || PUBLISH_ARGS+=(--compare-with-active "$COMPARE" --tolerance "$TOLERANCE")
    # With the silos' models directory at hand, the active version is scored on this run's validation users too.
    [[ -z "$COMPARE" || -z "${INCOMING:-}" ]] || PUBLISH_ARGS+=(--holdout "$S")
fi
status=0
"${CLI[@]}" publish --api "$API" --package "$WORK/package" "${PUBLISH_ARGS[@]}" || status=$?
# Pruned after a package held back (3) as well, which is registered too; not after a failure, which may be the cluster's.
if [[ -n "$KEEP_VERSIONS" && ( $status == 0 || $status == 3 ) ]]; then
    step "keep the newest $KEEP_VERSIONS versions named $PRUNE_PREFIX..."
    pruned=0
    "${CLI[@]}" delete-models --api "$API" --keep "$KEEP_VERSIONS" --prefix "$PRUNE_PREFIX" || pruned=$?
    [[ $status != 0 ]] || status=$pruned
fi
exit $status

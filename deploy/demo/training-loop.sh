#!/usr/bin/env bash
# The training loop against a running API, end to end:
#   events -> recommender export-events -> recommender train -> recommender publish --activate -> recommendations
#
# Start the API first (a single embedded node that loads the demo on first start), e.g. in another terminal:
#   dotnet run --project src/Recommender.Api -c Release
# then:
#   bash deploy/demo/training-loop.sh            # API=http://localhost:5000 by default
#
# Settings (environment): API (base address), EPOCHS (training epochs, default 10), WORK (scratch directory,
# default a new temporary one, removed at the end unless KEEP=1), ITEM_TEXT (id+text, the default, as the bundled demo
# package: the demo movies' texts are encoded first, about half a minute, so the new version still places movies nobody
# rated and items added since by their text; id: ids only, and the activation lists those items as not recommendable),
# TEXT_VECTORS (a file to keep the encoded texts in between runs).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
API="${API:-http://localhost:5000}"
API="${API%/}"
EPOCHS="${EPOCHS:-10}"
WORK="${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/training-loop.XXXXXX")}"
mkdir -p "$WORK"
[[ "${KEEP:-0}" == 1 ]] || trap 'rm -rf "$WORK"' EXIT
recommender() { dotnet run --project "$ROOT/src/Recommender.Cli" -c Release -- "$@"; }
step() { printf '\n== %s\n' "$*"; }

step "Waiting for $API/health/ready (the first start loads the demo)"
for _ in $(seq 1 180); do
    curl -fsS "$API/health/ready" >/dev/null 2>&1 && break
    sleep 1
done
curl -fsS "$API/health/ready" >/dev/null || { echo "The API at $API is not ready." >&2; exit 1; }
ACTIVE_BEFORE="$(curl -fsS "$API/models" | python3 -c 'import json,sys; print(json.load(sys.stdin)["active"])')"
echo "active model: $ACTIVE_BEFORE"

USER_ID="loop-$(date +%s)"
step "1. Events: user $USER_ID watches three Toy Story films and Monsters, Inc."
curl -fsS -X POST "$API/events" -H 'Content-Type: application/json' -d "[
  {\"userId\":\"$USER_ID\",\"itemId\":\"1\",\"type\":\"view\",\"timestamp\":\"2024-01-01T10:00:00Z\"},
  {\"userId\":\"$USER_ID\",\"itemId\":\"3114\",\"type\":\"view\",\"timestamp\":\"2024-01-01T12:00:00Z\"},
  {\"userId\":\"$USER_ID\",\"itemId\":\"78499\",\"type\":\"view\",\"timestamp\":\"2024-01-02T10:00:00Z\"},
  {\"userId\":\"$USER_ID\",\"itemId\":\"4886\",\"type\":\"like\",\"timestamp\":\"2024-01-02T12:00:00Z\"}]"
echo

step "2. recommender export-events"
recommender export-events --api "$API" --out "$WORK/events.csv"
head -n 3 "$WORK/events.csv"

ITEM_TEXT="${ITEM_TEXT:-id+text}"
TEXT_ARGS=()
case "$ITEM_TEXT" in
    id) ;;
    id+text)
        # The texts come from the demo's movies.csv and tags.csv, keyed by movieId as the exported events are.
        TEXT_VECTORS="${TEXT_VECTORS:-$WORK/movies.text-vectors.tsv}"
        DEMO="$ROOT/src/Recommender.Hosting/Demo/ml-latest-small"
        step "3a. recommender encode-text (the demo movies' texts)"
        [[ -s "$TEXT_VECTORS" ]] || recommender encode-text --movies "$DEMO/movies.csv" --tags "$DEMO/tags.csv" --out "$TEXT_VECTORS"
        TEXT_ARGS=(--item-text id+text --item-text-file "$TEXT_VECTORS" --item-id-dropout 0.5) ;;
    *) echo "ITEM_TEXT must be id or id+text, not '$ITEM_TEXT'." >&2; exit 1 ;;
esac

VERSION="sasrec-loop-$(date -u +%Y%m%d-%H%M%S)"
step "3. recommender train ($EPOCHS epochs, items: $ITEM_TEXT) -> package $VERSION"
recommender train --train "$WORK/events.csv" --format event-export "${TEXT_ARGS[@]}" \
    --dim 64 --max-length 200 --dropout 0.5 --lr 0.002 --epochs "$EPOCHS" --seed 42 \
    --out "$WORK/run" --export "$WORK/package" --version "$VERSION"
ls -l "$WORK/package"

step "4. recommender publish --activate (POST /models, then POST /models/$VERSION/activate)"
recommender publish --api "$API" --package "$WORK/package" --activate
echo

step "5. GET /users/$USER_ID/recommendations?k=5"
REPLY="$(curl -fsS "$API/users/$USER_ID/recommendations?k=5")"
echo "$REPLY" | python3 -m json.tool
SERVED="$(echo "$REPLY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["modelVersion"])')"
if [[ "$SERVED" != "$VERSION" ]]; then
    echo "Recommendations came from '$SERVED', not the new version '$VERSION'." >&2
    exit 1
fi
step "Done: $VERSION serves (was $ACTIVE_BEFORE); roll back with: curl -X POST $API/models/rollback"

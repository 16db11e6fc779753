#!/usr/bin/env bash
# A movie nobody has rated yet, recommended from its text alone, on the bundled demo (ml-latest-small):
#
#   dotnet run --project src/Recommender.Api -c Release      # terminal 1: one embedded node, loads the demo
#   bash deploy/demo/new-item-text.sh                         # terminal 2 (API=http://localhost:5000)
#
# 1. encodes every demo movie's text ("{title}. {genres}. Tags: {tags}") with all-MiniLM-L6-v2;
# 2. trains an id+text SASRec on the demo ratings (a few minutes on two cores), which also learns the text
#    projection that gives a never-rated item a vector;
# 3. uploads the package with its text_projection part and activates it;
# 4. PUTs a new movie written like the Toy Story family, then shows (within the same second) its neighbours, its rank
#    among Toy Story's neighbours, and the recommendations, with explanations, of a viewer of Pixar films.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
API="${API:-http://localhost:5000}"
DEMO="$ROOT/src/Recommender.Hosting/Demo/ml-latest-small"
VERSION="${VERSION:-sasrec-text-$(date -u +%Y%m%dT%H%M%S)}"
EPOCHS="${EPOCHS:-10}"
ITEM="${ITEM:-new-toy-adventure}"
# The chance per training step that an item's id row is left out, so that its text alone has to represent it: what
# lets a text-only item (a new one) score against users' interest vectors like a trained one.
ID_DROPOUT="${ID_DROPOUT:-0.5}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/text-demo.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
CLI=(dotnet run --project "$ROOT/src/Recommender.Cli" -c Release --)

# TEXT_VECTORS=path keeps the encoded texts between runs (encoding the 9,742 movies takes a minute or two).
TEXT_VECTORS="${TEXT_VECTORS:-$WORK/movies.text-vectors.tsv}"
[ -s "$TEXT_VECTORS" ] || "${CLI[@]}" encode-text --movies "$DEMO/movies.csv" --tags "$DEMO/tags.csv" --out "$TEXT_VECTORS"
"${CLI[@]}" train --train "$DEMO/ratings.csv" --format movielens-csv \
    --item-text id+text --item-text-file "$TEXT_VECTORS" --item-id-dropout "$ID_DROPOUT" \
    --dim 64 --max-length 200 --blocks 2 --heads 1 --dropout 0.2 \
    --epochs "$EPOCHS" --batch-size 128 --lr 0.001 --seed 42 --threads 2 \
    --out "$WORK/run" --export "$WORK/package" --version "$VERSION"

P="$WORK/package"
curl -fsS -F manifest=@"$P/manifest.json" -F encoder=@"$P/encoder.onnx" -F embeddings=@"$P/item_embeddings.bin" \
    -F text_projection=@"$P/text_projection.onnx" "$API/models" | jq '{version, itemRepresentation, textProjection}'
curl -fsS -X POST "$API/models/$VERSION/activate" | jq '{active, previous, carriedItems}'
sleep 3   # every silo's catalogue cache sees the new version within CatalogueCacheTtl (2 s)

echo "== PUT /items/$ITEM (never rated, not in the model's vocabulary)"
curl -fsS -X PUT "$API/items/$ITEM" -H 'content-type: application/json' -d '{
  "title": "Toy Box Rescue (2026)",
  "text": "Adventure, Animation, Children, Comedy, Fantasy",
  "tags": ["pixar", "toys", "friendship", "animation"]
}' | jq '{id, recommendable, vectorSource, placement}'

echo "== its nearest movies"
curl -fsS "$API/items/$ITEM/similar?k=10" | jq -r '.items[] | "\(.similarity | . * 1000 | round / 1000)\t\(.title)"'
echo "== its rank among the 100 nearest neighbours of Toy Story (movie 1)"
curl -fsS "$API/items/1/similar?k=100" | jq --arg item "$ITEM" '[.items[].id] | index($item) | if . == null then "not in the top 100" else . + 1 end'

echo "== a viewer of Pixar films: where the new movie ranks in their recommendations, and why"
# Toy Story, Toy Story 2, A Bug's Life, Monsters, Inc., Finding Nemo, The Incredibles: the new movie's kind.
VIEWER="${VIEWER:-pixar-viewer-$(date -u +%s)}"
echo "viewer: $VIEWER"
NOW=$(date -u +%s)
EVENTS=$(jq -n --arg user "$VIEWER" --argjson now "$NOW" \
  '[["1", "3114", "2355", "4886", "6377", "8961"] | to_entries[] | {userId: $user, itemId: .value, type: "view", timestamp: ($now - 600 + 60 * .key)}]')
curl -fsS -X POST "$API/events" -H 'content-type: application/json' -d "$EVENTS" | jq -c .
curl -fsS "$API/users/$VIEWER/recommendations?k=1000" | jq -r --arg item "$ITEM" \
  '[.items[].id] | index($item) | "the new movie ranks \(if . == null then "below 1000" else . + 1 end) of all movies for the viewer"'
curl -fsS "$API/users/$VIEWER/recommendations?k=20&explain=true" | jq -r --arg item "$ITEM" '
  .items | to_entries[]
  | "\(.key + 1)\t\(.value.title)\(if .value.id == $item then "   <- the new movie" else "" end)\t because: \([.value.because[]?.title] | join(" / "))"'

#!/usr/bin/env bash
# Where does a package lose? Scores it on val/ and test512/ twice: for the users whose history before the target
# holds at most SPLIT_AT items (what a window of that length sees whole) and for the users with a longer one,
# beside the popularity and Markov baselines, through ONNX Runtime with seen items removed (as `evaluate` does).
#
#   deploy/bench/ml1m-by-length.sh PACKAGE            # SPLIT_AT=200
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${DATA:-$ROOT/../shared/data/ml-1m-gsasrec}"
PACKAGE="${1:?usage: ml1m-by-length.sh PACKAGE}"
SPLIT_AT="${SPLIT_AT:-200}"
THREADS="${THREADS:-$(nproc)}"
CLI="$ROOT/artifacts/bin/Recommender.Cli/release/recommender.dll"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

[[ -f "$PACKAGE/manifest.json" ]] || { echo "$PACKAGE is not a model package (no manifest.json)" >&2; exit 2; }
[[ "$SPLIT_AT" =~ ^[1-9][0-9]*$ ]] || { echo "SPLIT_AT must be a positive whole number, not '$SPLIT_AT'" >&2; exit 2; }
dotnet build "$ROOT/src/Recommender.Cli" -c Release -v quiet -nologo >/dev/null

for split in val test512; do
    # Line i of input.txt and line i of output.txt are one case; both go to the same group.
    awk -v work="$WORK" -v split_name="$split" -v at="$SPLIT_AT" '
        FNR == NR { target[FNR] = $1; next }
        { group = NF <= at ? "short" : "long"
          print > (work "/" split_name "-" group "-input.txt")
          print target[FNR] > (work "/" split_name "-" group "-output.txt") }' \
        "$DATA/$split/output.txt" "$DATA/$split/input.txt"
    for group in short long; do
        input="$WORK/$split-$group-input.txt"
        [[ -f "$input" ]] || { echo "== $split: no user with a $group history"; continue; }
        if [[ $group == short ]]; then label="at most $SPLIT_AT"; else label="more than $SPLIT_AT"; fi
        echo "== $split: $(wc -l < "$input") users with $label items before the target"
        dotnet "$CLI" evaluate --package "$PACKAGE" --input "$input" --output "$WORK/$split-$group-output.txt" \
            --baselines --train "$DATA/train/input.txt" --threads "$THREADS"
    done
done

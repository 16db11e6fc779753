#!/usr/bin/env bash
# The MovieLens-1M quality run: train MEMBERS SASRec models (softmax cross-entropy) on the gSASRec split's
# train/, each early-stopped on val/, export them as one package whose score is the sum of the members'
# scores, and evaluate that package through ONNX Runtime on test512/ (full ranking, seen items removed)
# beside the popularity and Markov baselines. Wall time and peak memory of the whole run are printed.
#
#   deploy/bench/ml1m-quality.sh                      # MEMBERS=3 MINUTES_PER_MEMBER=19 DIM=128 MAX_LENGTH=200 TEMPERATURE=0 OUT=artifacts/ml1m-quality
#                                                     # BATCH_SIZE=128 EARLIER_WINDOW_RATE=0.5 DROPOUT=0.2
#
# Each member stops at its validation patience or after MINUTES_PER_MEMBER, whichever comes first.
# TEMPERATURE > 0 trains members that score by cosine divided by that temperature (0: dot product).
# VAL_HISTORIES=1 trains on train/ with each validation user's line replaced by its val/ history (one item longer),
# so those users' training sequences, like everyone else's, stop two items before the end.
# WEIGHT_AVERAGE > 0 validates and keeps a moving average of each member's weights with that decay (0: the raw weights).
# EXCLUDE_SEEN=1 trains with --exclude-seen: each softmax leaves out the items the user already had.
# MEMBER_ARGS adds training options to every member's command, e.g. MEMBER_ARGS="--input-item-dropout 0.1".
# MEMBER_VARIANTS="options a; options b" gives member m the ((m - 1) mod n)-th of n option lists, after MEMBER_ARGS
# (members of different shapes export as one package), e.g. with BLOCK=pre-norm:
# MEMBER_VARIANTS="--normalised-residual --activation swiglu; --gated-residual --activation swiglu".
# BLOCK=pre-norm trains plain pre-norm blocks x + f(LN(x)) instead of the original SASRec block (--normalised-residual),
# as --gated-residual needs: BLOCK=pre-norm MEMBER_ARGS="--gated-residual".
# FIRST_SEED=s gives member m the seed s + m - 1 (default 1): FIRST_SEED=5 trains another sample of the same package.
# PARALLEL=k trains k members at a time with THREADS/k threads each (on a machine whose cores are unevenly
# busy, separate single-threaded processes lose less to waiting than one process splitting each step).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${DATA:-$ROOT/../shared/data/ml-1m-gsasrec}"
OUT="${OUT:-$ROOT/artifacts/ml1m-quality}"
MEMBERS="${MEMBERS:-3}"
FIRST_SEED="${FIRST_SEED:-1}"
[[ "$FIRST_SEED" =~ ^[0-9]+$ ]] || { echo "FIRST_SEED must be a non-negative integer" >&2; exit 2; }
MINUTES_PER_MEMBER="${MINUTES_PER_MEMBER:-19}"
DIM="${DIM:-128}"
DROPOUT="${DROPOUT:-0.2}"
MAX_LENGTH="${MAX_LENGTH:-200}"
TEMPERATURE="${TEMPERATURE:-0}"
BATCH_SIZE="${BATCH_SIZE:-128}"
EARLIER_WINDOW_RATE="${EARLIER_WINDOW_RATE:-0.5}"
VAL_HISTORIES="${VAL_HISTORIES:-0}"
WEIGHT_AVERAGE="${WEIGHT_AVERAGE:-0}"
EXCLUDE_SEEN="${EXCLUDE_SEEN:-0}"
BLOCK="${BLOCK:-normalised-residual}"
[[ "$BLOCK" == normalised-residual || "$BLOCK" == pre-norm ]] || { echo "BLOCK must be normalised-residual or pre-norm" >&2; exit 2; }
THREADS="${THREADS:-$(nproc)}"
PARALLEL="${PARALLEL:-1}"
(( PARALLEL >= 1 && PARALLEL <= THREADS )) || { echo "PARALLEL must be between 1 and THREADS ($THREADS)" >&2; exit 2; }
MEMBER_THREADS=$(( THREADS / PARALLEL ))
CLI="$ROOT/artifacts/bin/Recommender.Cli/release/recommender.dll"

for f in train/input.txt val/input.txt val/output.txt test512/input.txt test512/output.txt; do
    [[ -f "$DATA/$f" ]] || { echo "missing $DATA/$f (set DATA to the ml-1m-gsasrec directory)" >&2; exit 2; }
done
dotnet build "$ROOT/src/Recommender.Cli" -c Release -v quiet -nologo >/dev/null
mkdir -p "$OUT"
rm -f "$OUT"/peak-kb-*

TRAIN="$DATA/train/input.txt"
if [[ "$VAL_HISTORIES" == 1 ]]; then
    TRAIN="$OUT/train-with-val-histories.txt"
    # A validation history is its user's training line plus one item: match on that prefix.
    awk 'NR == FNR { key = $0; sub(/ [0-9]+$/, "", key); longer[key] = $0; next }
         ($0 in longer) { print longer[$0]; replaced++; next } { print }
         END { if (replaced != 512) { print "replaced " replaced " lines, expected 512" > "/dev/stderr"; exit 1 } }' \
        "$DATA/val/input.txt" "$DATA/train/input.txt" > "$TRAIN"
fi

# Members run PARALLEL at a time, so the run's peak memory is at most PARALLEL members' (or the export's).
start=$(date +%s)
checkpoints=()
extra=()
[[ "$EXCLUDE_SEEN" == 1 ]] && extra+=(--exclude-seen)
[[ "$BLOCK" == normalised-residual ]] && extra+=(--normalised-residual)
read -r -a member_args <<< "${MEMBER_ARGS:-}"
extra+=("${member_args[@]}")
variants=()
[[ -n "${MEMBER_VARIANTS:-}" ]] && IFS=';' read -r -a variants <<< "$MEMBER_VARIANTS"
train_member() {
    local m=$1
    local variant=()
    (( ${#variants[@]} == 0 )) || read -r -a variant <<< "${variants[(m - 1) % ${#variants[@]}]}"
    /usr/bin/time -f %M -o "$OUT/peak-kb-$m" dotnet "$CLI" train --train "$TRAIN" \
        --val-input "$DATA/val/input.txt" --val-output "$DATA/val/output.txt" \
        --out "$OUT/member-$m" --loss ce --max-length "$MAX_LENGTH" --dim "$DIM" --blocks 2 --heads 1 --dropout "$DROPOUT" \
        --positions-from-start --init-std 0.02 --temperature "$TEMPERATURE" \
        --lr 1e-3 --beta2 0.999 --batch-size "$BATCH_SIZE" --earlier-window-rate "$EARLIER_WINDOW_RATE" --weight-average "$WEIGHT_AVERAGE" \
        --epochs 400 --patience 20 --time-limit "$MINUTES_PER_MEMBER" --seed $(( FIRST_SEED + m - 1 )) --threads "$MEMBER_THREADS" "${extra[@]}" "${variant[@]}"
}
for ((first = 1; first <= MEMBERS; first += PARALLEL)); do
    pids=()
    for ((m = first; m < first + PARALLEL && m <= MEMBERS; m++)); do
        echo "== member $m of $MEMBERS"
        if (( PARALLEL == 1 )); then train_member "$m"; else train_member "$m" > "$OUT/member-$m.log" 2>&1 & pids+=($!); fi
        checkpoints+=("$OUT/member-$m/best.model")
    done
    for pid in "${pids[@]}"; do wait "$pid" || { echo "a member failed; see $OUT/member-*.log" >&2; exit 1; }; done
    group_kb=0
    for ((m = first; m < first + PARALLEL && m <= MEMBERS; m++)); do
        (( PARALLEL == 1 )) || { echo "-- member $m"; tail -n 3 "$OUT/member-$m.log"; }
        group_kb=$(( group_kb + $(tail -n 1 "$OUT/peak-kb-$m") ))
    done
    echo "$group_kb" > "$OUT/peak-kb-group-$first"
done
/usr/bin/time -f %M -o "$OUT/peak-kb-export" dotnet "$CLI" export --checkpoint "${checkpoints[@]}" \
    --out "$OUT/package" --version "sasrec-ce-ml1m-x$MEMBERS"
elapsed=$(( $(date +%s) - start ))
echo "== validation (the data early stopping saw)"
dotnet "$CLI" evaluate --package "$OUT/package" --input "$DATA/val/input.txt" --output "$DATA/val/output.txt" --threads "$THREADS"
echo "== test512"
dotnet "$CLI" evaluate --package "$OUT/package" --input "$DATA/test512/input.txt" --output "$DATA/test512/output.txt" \
    --baselines --train "$TRAIN" --threads "$THREADS"
printf 'training and export: %d min %d s, peak RSS %s MB\n' $((elapsed / 60)) $((elapsed % 60)) \
    "$(tail -q -n 1 "$OUT"/peak-kb-group-* "$OUT/peak-kb-export" | sort -n | tail -n 1 | awk '{printf "%.0f", $1 / 1024}')"

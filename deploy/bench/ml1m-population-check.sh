#!/usr/bin/env bash
# Is test512 a typical sample of MovieLens-1M's test users? Scores a package on predicting each user's last
# item from the history without the second-to-last item (the one input every user has in the public split),
# for the 512 test512 users and for the other 5,528 users, so that both groups are measured the same way.
#
#   deploy/bench/ml1m-population-check.sh PACKAGE LABELS
#
# LABELS is the published test file of the split, one last item per user in the order of train/input.txt
# (datasets/ml1m/test/output.txt of the gSASRec authors' public PyTorch repository, 6,040 lines); it is
# not part of ../shared/data. The 512 users' lines must agree with test512/output.txt, which is checked.
#
# Then it asks how often a random set of 512 of all 6,040 users scores as low as the 512 do: DRAWS random sets
# (default 20,000; 0 skips this), drawn without replacement with awk's generator seeded by SEED (default 1).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${DATA:-$ROOT/../shared/data/ml-1m-gsasrec}"
PACKAGE="${1:?usage: ml1m-population-check.sh PACKAGE LABELS}"
LABELS="${2:?usage: ml1m-population-check.sh PACKAGE LABELS}"
THREADS="${THREADS:-$(nproc)}"
DRAWS="${DRAWS:-20000}"
SEED="${SEED:-1}"
CLI="$ROOT/artifacts/bin/Recommender.Cli/release/recommender.dll"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

[[ $(wc -l < "$LABELS") -eq 6040 ]] || { echo "$LABELS must have 6040 lines" >&2; exit 2; }
dotnet build "$ROOT/src/Recommender.Cli" -c Release -v quiet -nologo >/dev/null

# A validation user's training line is its validation history without the last item (the split holds back one
# more item for those users). Everyone else's training line already stops before the second-to-last item.
awk -v work="$WORK" '
    FILENAME == ARGV[1] { key = $0; sub(/ [^ ]+$/, "", key); val[key] = FNR; next }
    FILENAME == ARGV[2] { test[FNR] = $1; next }
    FILENAME == ARGV[3] { label[FNR] = $1; next }
    {
        if ($0 in val) {
            if (label[FNR] != test[val[$0]]) { printf "label of line %d disagrees with test512 line %d\n", FNR, val[$0] > "/dev/stderr"; bad = 1 }
            matched++
        } else {
            print > (work "/rest-input.txt"); print label[FNR] > (work "/rest-output.txt")
        }
    }
    END { if (bad || matched != 512) { printf "matched %d of 512 validation users\n", matched > "/dev/stderr"; exit 1 } }
' "$DATA/val/input.txt" "$DATA/test512/output.txt" "$LABELS" "$DATA/train/input.txt"

echo "== the 512 test512 users (history without the second-to-last item = val/input.txt)"
dotnet "$CLI" evaluate --package "$PACKAGE" --input "$DATA/val/input.txt" --output "$DATA/test512/output.txt" \
    --baselines --train "$DATA/train/input.txt" --threads "$THREADS" --ranks "$WORK/ranks-512.csv"
echo "== the other 5,528 users"
dotnet "$CLI" evaluate --package "$PACKAGE" --input "$WORK/rest-input.txt" --output "$WORK/rest-output.txt" \
    --baselines --train "$DATA/train/input.txt" --threads "$THREADS" --ranks "$WORK/ranks-rest.csv"

[[ "$DRAWS" -gt 0 ]] || exit 0
echo "== random sets of 512 of all 6,040 users (the package's NDCG@10, $DRAWS draws, seed $SEED)"
# Column 2 of a ranks file is the package; a user's NDCG@10 is 1/log2(rank + 2) when the rank is below 10, else 0.
awk -F, -v draws="$DRAWS" -v seed="$SEED" '
    FNR == 1 { next }
    { g = $2 < 10 ? 1 / (log($2 + 2) / log(2)) : 0; score[n++] = g; if (FILENAME == ARGV[1]) { sample += g; m++ } }
    function sd(from, to,   i, mean, ss) {
        for (i = from; i < to; i++) mean += score[i]; mean /= to - from
        for (i = from; i < to; i++) ss += (score[i] - mean) ^ 2
        return sqrt(ss / (to - from - 1))
    }
    END {
        for (i = 0; i < n; i++) { all += score[i]; order[i] = i }
        observed = sample / m
        srand(seed)
        for (d = 0; d < draws; d++) {
            # The first m places of a partial Fisher-Yates shuffle are a uniform sample without replacement.
            s = 0
            for (k = 0; k < m; k++) {
                j = k + int(rand() * (n - k)); t = order[k]; order[k] = order[j]; order[j] = t
                s += score[order[k]]
            }
            if (s / m <= observed + 1e-12) low++
        }
        printf "the %d users %.4f (per-user sd %.3f); all %d users %.4f (sd %.3f)\n", m, observed, sd(0, m), n, all / n, sd(0, n)
        printf "random sets of %d scoring %.4f or less: %d of %d (%.2f %%)\n", m, observed, low, draws, 100 * low / draws
    }
' "$WORK/ranks-512.csv" "$WORK/ranks-rest.csv"

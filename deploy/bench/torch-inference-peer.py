"""The PyTorch peer of `recommender bench-inference`: the same SASRec encoder (item embeddings scaled by sqrt(D)
plus learned positions counted back from the newest item, pre-norm blocks x + MHA(LN(x)) and x + FFN(LN(x)) with a
ReLU feed-forward of width D, a causal mask, a final LayerNorm, the hidden state at the last position out) with
random weights, timed on batch 1 with a full history and on batch 64, in eager mode under torch.inference_mode and
traced with TorchScript. Two forms of the forward pass:

  full  every block runs every position and the last row is taken at the end, as the reference SASRec code predicts;
  last  the last block runs its query, output projection and feed-forward for the last position only, as the
        project's exported ONNX graph does (keys and values still cover the window).

It is a yardstick for the serving path, not part of the project.

    python3 deploy/bench/torch-inference-peer.py [--items 3416] [--max-length 200] [--dimension 64] [--blocks 2]
        [--heads 1] [--threads 1] [--runs 200]

Needs Debian's python3-torch (and libopenblas0-pthread); run it with /usr/bin/python3.
"""
import argparse, statistics, time
import torch, torch.nn as nn, torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--items', type=int, default=3416)
p.add_argument('--max-length', type=int, default=200)
p.add_argument('--dimension', type=int, default=64)
p.add_argument('--blocks', type=int, default=2)
p.add_argument('--heads', type=int, default=1)
p.add_argument('--threads', type=int, default=1)
p.add_argument('--runs', type=int, default=200)
a = p.parse_args()
if a.runs < 10 or a.dimension % a.heads:
    p.error('--runs must be at least 10 and --heads must divide --dimension')
L, D, H = a.max_length, a.dimension, a.heads
torch.set_num_threads(a.threads)
torch.manual_seed(1)


class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.ln1, s.ln2 = nn.LayerNorm(D), nn.LayerNorm(D)
        s.qkv, s.out = nn.Linear(D, 3 * D), nn.Linear(D, D)
        s.ff1, s.ff2 = nn.Linear(D, D), nn.Linear(D, D)

    def attend(s, q, k, v, mask):
        b, lq, lk = q.shape[0], q.shape[1], k.shape[1]
        q = q.view(b, lq, H, D // H).transpose(1, 2)
        k = k.view(b, lk, H, D // H).transpose(1, 2)
        v = v.view(b, lk, H, D // H).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) * (D // H) ** -0.5
        o = torch.softmax(scores.masked_fill(~mask, float('-inf')), dim=-1) @ v
        return s.out(o.transpose(1, 2).reshape(b, lq, D))

    def forward(s, x, mask, last_only: bool):
        h = s.ln1(x)
        q, k, v = s.qkv(h).chunk(3, dim=-1)
        if last_only:
            # The last query may see every key but padding: the last row of the mask.
            x = x[:, -1:] + s.attend(q[:, -1:], k, v, mask[:, :, -1:])
        else:
            x = x + s.attend(q, k, v, mask)
        return x + s.ff2(F.relu(s.ff1(s.ln2(x))))


class Encoder(nn.Module):
    def __init__(s, last_only: bool):
        super().__init__()
        s.item, s.pos = nn.Embedding(a.items + 1, D, padding_idx=0), nn.Embedding(L, D)
        s.blocks = nn.ModuleList([Block() for _ in range(a.blocks)])
        s.ln = nn.LayerNorm(D)
        s.last_only = last_only
        s.register_buffer('causal', torch.ones(L, L, dtype=torch.bool).tril())
        s.register_buffer('diagonal', torch.eye(L, dtype=torch.bool))

    def forward(s, ids):
        present = ids > 0
        keep = present.unsqueeze(-1).to(torch.float32)
        # [B, 1, L, L]: query i sees key j when j <= i and j is an item, not padding; a padding row sees itself
        # (so its softmax is defined) and is zeroed after every block.
        mask = (s.causal & present[:, None, None, :]) | s.diagonal
        x = (s.item(ids) * D ** 0.5 + s.pos.weight) * keep
        for i, b in enumerate(s.blocks):
            last = s.last_only and i == len(s.blocks) - 1
            x = b(x, mask, last) * (keep[:, -1:] if last else keep)
        return s.ln(x[:, -1])


def measure(model, batch, runs, warmup=10):
    ids = torch.randint(1, a.items + 1, (1, L), generator=torch.Generator().manual_seed(2)).repeat(batch, 1)
    with torch.inference_mode():
        for _ in range(warmup):
            model(ids)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            model(ids)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.9)]


print(f'torch {torch.__version__}, {a.threads} thread(s): SASRec encoder, {a.items} items, L={L}, D={D}, '
      f'{a.blocks} blocks, {H} head(s)')
for form in ('full', 'last'):
    eager = Encoder(form == 'last').eval()
    with torch.inference_mode():
        traced = torch.jit.trace(eager, torch.ones(1, L, dtype=torch.long), check_trace=False)
        # Both forms compute the same vector; a mismatch would mean the timings compare different work.
        probe = torch.randint(1, a.items + 1, (3, L))
        probe[0, :L // 2] = 0  # a left-padded history too
        reference = Encoder(False).eval()
        reference.load_state_dict(eager.state_dict())
        if not (torch.allclose(eager(probe), reference(probe), atol=1e-4) and torch.allclose(traced(probe), reference(probe), atol=1e-4)):
            raise SystemExit(f'the {form} form does not compute the full form\'s vectors')
    for mode, model in (('eager', eager), ('TorchScript', traced)):
        p50, p90 = measure(model, 1, a.runs)
        b50, _ = measure(model, 64, max(10, a.runs // 10))
        print(f'{form:4} {mode:11}  batch 1 median / p90: {p50:.3f} / {p90:.3f} ms   '
              f'batch 64: {b50:.2f} ms, {64 / (b50 / 1000):.0f} sequences/s')

"""The PyTorch peer of the MovieLens-1M quality run: SASRec with full softmax cross-entropy, the same model
and protocol as deploy/bench/ml1m-quality.sh (dim 128, 2 blocks, 1 head, dropout 0.2, the block of the
original SASRec code, positions counted from the oldest item, Adam lr 1e-3), trained on train/, early-stopped
on val/ NDCG@10 and scored on test512/ (all items ranked, the user's seen items removed). It is a yardstick
for what the published method reaches on these 512 users, not part of the project.

    python3 deploy/bench/ml1m-torch-peer.py [--data ../shared/data/ml-1m-gsasrec] [--seed 42] [--minutes 45]

Needs Debian's python3-torch (and libopenblas0-pthread); run it with /usr/bin/python3. One thread is
PyTorch's fastest setting on this 2-core machine.
"""
import argparse, copy, math, os, random, time
import torch, torch.nn as nn, torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--data', default=os.path.join(os.path.dirname(__file__), '../../../shared/data/ml-1m-gsasrec'))
p.add_argument('--dim', type=int, default=128)
p.add_argument('--dropout', type=float, default=0.2)
p.add_argument('--max-length', type=int, default=200)
p.add_argument('--batch-size', type=int, default=128)
p.add_argument('--patience', type=int, default=15)
p.add_argument('--minutes', type=float, default=45)
p.add_argument('--seed', type=int, default=42)
p.add_argument('--threads', type=int, default=1)
a = p.parse_args()
L, D, B = a.max_length, a.dim, a.batch_size
torch.set_num_threads(a.threads); torch.manual_seed(a.seed); random.seed(a.seed)


def read(name):
    with open(os.path.join(a.data, name)) as f:
        return [[int(x) for x in line.split()] for line in f if line.strip()]


train = read('train/input.txt')
val_in, val_out = read('val/input.txt'), [s[0] for s in read('val/output.txt')]
test_in, test_out = read('test512/input.txt'), [s[0] for s in read('test512/output.txt')]
N = max(max(s) for s in train + val_in + test_in + [val_out, test_out])


class FeedForward(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1, s.c2, s.d1, s.d2 = nn.Linear(D, D), nn.Linear(D, D), nn.Dropout(a.dropout), nn.Dropout(a.dropout)

    def forward(s, x):
        return x + s.d2(s.c2(s.d1(F.relu(s.c1(x)))))


class Block(nn.Module):
    """h = LN1(x); x1 = h + MHA(q=h, kv=x); g = LN2(x1); out = g + FFN(g), padding positions zeroed."""

    def __init__(s):
        super().__init__()
        s.ln1, s.ln2 = nn.LayerNorm(D, eps=1e-8), nn.LayerNorm(D, eps=1e-8)
        s.att = nn.MultiheadAttention(D, 1, dropout=a.dropout, batch_first=True)
        s.ff = FeedForward()

    def forward(s, x, causal, keep):
        h = s.ln1(x)
        x1 = h + s.att(h, x, x, attn_mask=causal, need_weights=False)[0]
        return s.ff(s.ln2(x1)) * keep


class SASRec(nn.Module):
    def __init__(s):
        super().__init__()
        s.item, s.pos = nn.Embedding(N + 1, D, padding_idx=0), nn.Embedding(L + 1, D, padding_idx=0)
        s.blocks = nn.ModuleList([Block(), Block()])
        s.ln, s.drop = nn.LayerNorm(D, eps=1e-8), nn.Dropout(a.dropout)
        s.causal = torch.triu(torch.ones(L, L, dtype=torch.bool), 1)
        for w in s.parameters():
            if w.dim() > 1:
                nn.init.xavier_normal_(w)
        s.item.weight.data[0] = 0
        s.pos.weight.data[0] = 0

    def forward(s, seq):
        nonpad = (seq > 0).long()
        keep = nonpad.unsqueeze(-1).float()
        positions = torch.cumsum(nonpad, 1) * nonpad  # 1 = the oldest item in the window
        x = s.drop(s.item(seq) * D ** 0.5 + s.pos(positions)) * keep
        for b in s.blocks:
            x = b(x, s.causal, keep)
        return s.ln(x)


def left_pad(rows):
    t = torch.zeros(len(rows), L, dtype=torch.long)
    for r, s in enumerate(rows):
        s = s[-L:]
        if s:
            t[r, L - len(s):] = torch.tensor(s)
    return t


def evaluate(model, inputs, targets):
    """NDCG@10 and Recall@10, all items ranked, the input's items removed, ties counted against the target."""
    model.eval()
    ndcg = hits = 0.0
    with torch.no_grad():
        items = model.item.weight[1:]
        for i in range(0, len(inputs), 256):
            scores = model(left_pad(inputs[i:i + 256]))[:, -1] @ items.T
            for r, history in enumerate(inputs[i:i + 256]):
                target, row = targets[i + r], scores[r].clone()
                seen = [x - 1 for x in set(history) if x != target]
                row[torch.tensor(seen, dtype=torch.long)] = -float('inf')
                rank = int((row >= row[target - 1]).sum()) - 1
                if rank < 10:
                    hits += 1
                    ndcg += 1 / math.log2(rank + 2)
    model.train()
    return ndcg / len(inputs), hits / len(inputs)


model = SASRec()
opt = torch.optim.Adam(model.parameters(), 1e-3, betas=(0.9, 0.999))
best, best_state, best_epoch, since_best, start = -1.0, None, 0, 0, time.time()
for epoch in range(1, 1000):
    order = list(range(len(train)))
    random.shuffle(order)
    t0, total = time.time(), 0.0
    for i in range(0, len(order), B):
        rows = [train[u][-(L + 1):] for u in order[i:i + B]]
        seq, target = left_pad([r[:-1] for r in rows]), left_pad([r[1:] for r in rows])
        valid = target > 0
        loss = F.cross_entropy(model(seq)[valid] @ model.item.weight.T, target[valid])
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += float(loss)
    v_ndcg, v_hits = evaluate(model, val_in, val_out)
    print(f'epoch {epoch}: {time.time() - t0:.1f} s, loss {total / math.ceil(len(order) / B):.4f}, '
          f'val NDCG@10 {v_ndcg:.4f}, Recall@10 {v_hits:.4f}', flush=True)
    if v_ndcg > best:
        best, best_epoch, since_best, best_state = v_ndcg, epoch, 0, copy.deepcopy(model.state_dict())
    else:
        since_best += 1
    if since_best >= a.patience or time.time() - start > a.minutes * 60:
        break
model.load_state_dict(best_state)
t_ndcg, t_hits = evaluate(model, test_in, test_out)
print(f'torch {torch.__version__}, seed {a.seed}: best epoch {best_epoch}, val NDCG@10 {best:.4f}; '
      f'test512 NDCG@10 {t_ndcg:.4f}, Recall@10 {t_hits:.4f}; {time.time() - start:.0f} s', flush=True)

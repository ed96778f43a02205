"""Reference solution of exercise 1: the masked attention of one DCAMA block (see ../01_masked_attention.ipynb)."""
import math

import torch


def masked_attention(q, k, v, mask=None):
    """softmax(q kᵀ / √d) v over the key axis; `mask` (True = may attend) broadcasts to (B, heads, N, M).

    q (B, heads, N, d), k (B, heads, M, d) with the keys of all K shots one after the other (M = K·N),
    v (B, heads, M, dv). Returns (B, heads, N, dv).
    """
    d = q.shape[-1]
    scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d))       # (B, heads, N, M)
    if mask is not None:
        scores = torch.where(mask, scores, torch.full_like(scores, float("-inf")))
    scores = scores - scores.max(dim=-1, keepdim=True).values                  # stable: the largest exp is 1
    weights = scores.exp()
    weights = weights / weights.sum(dim=-1, keepdim=True)                      # one softmax over all shots' keys
    return torch.matmul(weights, v)

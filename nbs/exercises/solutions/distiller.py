"""Reference solution of exercise 4: one class's distiller (see ../04_distiller.ipynb)."""
import torch
import torch.nn as nn


class ClassDistiller(nn.Module):
    "Per (stage, width) one Conv3x3(C, w) + ReLU + Conv1x1(w, 1), shared by the blocks of that stage and width."

    def __init__(self, head, channels, width=None):
        super().__init__()
        self.blocks = sorted(head.layer_stage)                    # block ids of stages 2-4
        pairs, index, self.pair_of = [], {}, {}
        for l in self.blocks:
            key = (head.layer_stage[l], channels[l])
            if key not in index:
                c, w = channels[l], width or channels[l]
                index[key] = len(pairs)
                pairs.append(nn.Sequential(nn.Conv2d(c, w, 3, padding=1), nn.ReLU(), nn.Conv2d(w, 1, 1)))
            self.pair_of[l] = index[key]
        self.pairs = nn.ModuleList(pairs)

    def forward(self, query_feats, stage_ends):
        "[stage 4 (B, n4, h, w), stage 3, stage 2]: each block's one-channel map, stacked per stage."
        s0, s1, s2, s3 = stage_ends
        maps = {l: self.pairs[self.pair_of[l]](query_feats[l]) for l in self.blocks}
        return [torch.cat([maps[l] for l in range(a, b)], dim=1) for a, b in ((s2, s3), (s1, s2), (s0, s1))]

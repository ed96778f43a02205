"""Reference solution of exercise 3: an IoU accumulator (see ../03_iou_accumulator.ipynb)."""
import numpy as np
import torch


class IoUAccumulator:
    "Per-class intersections and unions summed over every image; IoU = sum of intersections / sum of unions."

    def __init__(self, n_classes, ignore_index=255):
        self.n_classes, self.ignore_index = n_classes, ignore_index
        self.inter = np.zeros(n_classes + 1, dtype=np.int64)     # index 0 = background
        self.uni = np.zeros(n_classes + 1, dtype=np.int64)

    def update(self, pred, target):
        "Add one image or a batch: class-index `pred` and `target` of the same shape."
        p = torch.as_tensor(pred).detach().cpu().numpy().reshape(-1)
        t = torch.as_tensor(target).detach().cpu().numpy().reshape(-1)
        if p.shape != t.shape: raise ValueError(f"pred has {p.size} pixels, target {t.size}")
        keep = t != self.ignore_index
        p, t = p[keep], t[keep]
        for c in range(self.n_classes + 1):
            pc, tc = p == c, t == c
            self.inter[c] += int(np.count_nonzero(pc & tc))
            self.uni[c] += int(np.count_nonzero(pc | tc))
        return self

    def iou(self):
        "IoU of every class (index 0 = background); nan where the class never appeared in truth or prediction."
        out = np.full(self.n_classes + 1, np.nan)
        seen = self.uni > 0
        out[seen] = self.inter[seen] / self.uni[seen]
        return out

    def miou(self):
        "Mean IoU of the foreground classes that have one; nan if none does."
        fg = self.iou()[1:]
        fg = fg[~np.isnan(fg)]
        return float(fg.mean()) if len(fg) else float("nan")

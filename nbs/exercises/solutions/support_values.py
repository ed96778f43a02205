"""Reference solution of exercise 1, step 1: support masks as the attention's values (see ../01_masked_attention.ipynb)."""
import torch
import torch.nn.functional as F


def support_values(masks, c, size):
    """Class `c` of K class-index masks (K, H, W) as DCAMA's values: 1 where the mask is c, 0 elsewhere (255, ignored,
    counts as background), resized bilinearly with corners aligned to `size` (h, w), shot after shot: (1, 1, K·h·w, 1)."""
    m = (masks == c).float()[:, None]  # (K, 1, H, W); 255 is not c, so it becomes 0
    if tuple(m.shape[-2:]) != tuple(size):
        m = F.interpolate(m, size=tuple(size), mode="bilinear", align_corners=True)
    return m.reshape(1, 1, -1, 1)  # shot 0's h·w values, then shot 1's, ...

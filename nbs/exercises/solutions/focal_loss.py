"""Reference solution of exercise 2: the focal loss of seg_loss(kind='focal') (see ../02_focal_loss.ipynb)."""
import torch
import torch.nn.functional as F


def focal_loss(logits, target, gamma=2.0, ignore_index=255):
    """Mean over non-ignored pixels of -(1 - p_t)^gamma · log p_t; 0 when every pixel is ignored.

    logits (B, 2, H, W) background/foreground, target (B, H, W) in {0, 1, ignore_index}.
    """
    valid = target != ignore_index
    fg = target == 1
    margin = logits[:, 1] - logits[:, 0]                  # two-class softmax = sigmoid of the logit difference
    log_pt = torch.where(fg, F.logsigmoid(margin), F.logsigmoid(-margin))
    per_pixel = -(1 - log_pt.exp()).pow(gamma) * log_pt
    per_pixel = torch.where(valid, per_pixel, torch.zeros_like(per_pixel))
    return per_pixel.sum() / valid.sum().clamp(min=1)

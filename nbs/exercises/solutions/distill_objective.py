"""Reference solution of exercise 6: the two distillation objectives (see ../06_distill_objective.ipynb)."""
import torch
import torch.nn.functional as F

from distillfss.distill import seg_loss


def distill_objective(t_logits, s_logits, t_cm, s_cm, y, objective="refine"):
    """refine: (L_T + L_S + MSE) / 3 against the true mask y; pure: (L_S against the frozen teacher's argmax + MSE
    against its detached coarse maps) / 2. MSE: the mean squared error of each stage's maps, averaged over stages."""
    if objective == "pure":  # the teacher is frozen: its answer and its maps are targets, not things to train
        t_logits, t_cm = t_logits.detach(), [t.detach() for t in t_cm]
    mse = torch.stack([((s - t) ** 2).mean() for s, t in zip(s_cm, t_cm)]).mean()
    if objective == "refine":
        return (seg_loss(t_logits, y) + seg_loss(s_logits, y) + mse) / 3
    up = F.interpolate(t_logits, size=y.shape[-2:], mode="bilinear", align_corners=False)
    pseudo = torch.where(y == 255, y, up.argmax(1))  # ignored pixels stay ignored
    return (seg_loss(s_logits, pseudo) + mse) / 2

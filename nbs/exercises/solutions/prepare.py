"""Reference solution of exercise 5: prepare the made-up 'car_damage' download (see ../05_prepare.ipynb)."""
from pathlib import Path

import numpy as np
from PIL import Image

COLOURS = {(0, 0, 0): 0, (255, 0, 0): 1, (0, 255, 0): 2, (255, 255, 255): 255}   # colour -> mask value
CLASSES = ["scratch", "dent"]                                                    # mask values 1, 2


def colour_to_index(rgb, source):
    "Class-index mask (H, W) uint8 of a colour-coded (H, W, 3) annotation; ValueError naming `source` on an unknown colour."
    code = (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
    out = np.zeros(code.shape, np.uint8)
    known = np.zeros(code.shape, bool)
    for (r, g, b), value in COLOURS.items():
        hit = code == (r << 16 | g << 8 | b)
        out[hit] = value
        known |= hit
    if not known.all():
        y, x = np.argwhere(~known)[0]
        raise ValueError(f"{source}: colour {tuple(int(c) for c in rgb[y, x])} at row {y}, column {x} is not in the legend {list(COLOURS)}")
    return out


def prepare_car_damage(src, dst):
    "car_damage/photos/<id>.jpg + annotations/<id>_annotation.png -> dst/images, dst/masks, dst/classes.txt."
    src, dst = Path(src), Path(dst)
    (dst / "images").mkdir(parents=True, exist_ok=True)
    (dst / "masks").mkdir(parents=True, exist_ok=True)
    (dst / "classes.txt").write_text("\n".join(CLASSES) + "\n", encoding="utf-8")
    for photo in sorted((src / "photos").glob("*.jpg")):
        ann = src / "annotations" / f"{photo.stem}_annotation.png"
        if not ann.exists(): continue                          # never annotated: not a training pair
        with Image.open(photo) as im: image = np.asarray(im.convert("RGB"))
        with Image.open(ann) as im: mask = colour_to_index(np.asarray(im.convert("RGB")), ann)
        if image.shape[:2] != mask.shape: raise ValueError(f"{ann}: {mask.shape} differs from its photo {image.shape[:2]}")
        Image.fromarray(image).save(dst / "images" / f"{photo.stem}.png")
        Image.fromarray(mask).save(dst / "masks" / f"{photo.stem}.png")
    return dst

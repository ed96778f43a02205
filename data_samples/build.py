"""Rebuild `data_samples/` from the real image+mask data shipped inside PyPI packages.

Usage (from the repository root, needs network access to PyPI only):

    python data_samples/build.py            # download into a temporary folder, rebuild every domain
    python data_samples/build.py --src DIR  # reuse archives already downloaded into DIR
    python data_samples/build.py --out DIR  # write the domains under DIR instead of data_samples/

Every step is deterministic: the same package versions give the same PNG files. Each domain folder gets
`images/`, `masks/` (class-index PNGs, 0 = background), `classes.txt`, `layout.csv` (which volume or large
image each pair comes from and where, so splits can keep a gap), `info.json` (provenance, licence, conversion,
sha256 of the source archive) and a `README.md`.
"""
import argparse, gzip, hashlib, io, json, shutil, struct, subprocess, sys, tarfile, tempfile, zipfile
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
OUT = HERE  # where domain folders are written (--out)

# name: (pip arguments, archive file name)
PACKAGES = {
    "pyradiomics": (["--no-binary", "pyradiomics", "--no-build-isolation", "pyradiomics==3.0.1"], "pyradiomics-3.0.1.tar.gz"),
    "liver": (["liver-ct-segmentation-package==1.6.0"], "liver_ct_segmentation_package-1.6.0-py2.py3-none-any.whl"),
    "scellseg": (["--no-binary", "scellseg", "scellseg==0.1.8"], "scellseg-0.1.8.tar.gz"),
    "stardist": (["stardist==0.9.2"], None),  # platform wheel: the name depends on the machine
    "solaris": (["solaris==0.4.0"], "solaris-0.4.0-py3-none-any.whl"),
}


def download(src: Path):
    "Fetch each archive with pip (no dependencies) unless it is already in `src`."
    src.mkdir(parents=True, exist_ok=True)
    for name, (args, fname) in PACKAGES.items():
        have = list(src.glob(fname)) if fname else list(src.glob("stardist-0.9.2-*.whl"))
        if have: continue
        # pyradiomics' sdist needs numpy and wheel importable to report its metadata (hence no build isolation)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(src), *args], check=True)


def member(archive: Path, suffix: str) -> bytes:
    "Read the one member of a wheel (zip) or sdist (tar.gz) whose path ends with `suffix`."
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as z:
            names = [n for n in z.namelist() if n.endswith(suffix)]
            assert len(names) == 1, f"{archive.name}: expected one member ending in {suffix}, found {names}"
            return z.read(names[0])
    with tarfile.open(archive) as t:
        names = [m for m in t.getmembers() if m.name.endswith(suffix)]
        assert len(names) == 1, f"{archive.name}: expected one member ending in {suffix}, found {[m.name for m in names]}"
        return t.extractfile(names[0]).read()


def members(archive: Path, folder: str):
    "All (path, bytes) of an sdist's members under `folder`, sorted by path."
    with tarfile.open(archive) as t:
        ms = sorted((m for m in t.getmembers() if m.isfile() and f"/{folder}/" in m.name), key=lambda m: m.name)
        return [(m.name, t.extractfile(m).read()) for m in ms]


def sha256(p: Path) -> str: return hashlib.sha256(p.read_bytes()).hexdigest()


def read_nrrd(b: bytes) -> np.ndarray:
    "NRRD: a text header ending in an empty line, then the (here gzip-compressed) raw array, fastest axis first."
    i = b.index(b"\n\n")
    head = dict(l.split(": ", 1) for l in b[:i].decode().splitlines()[1:] if ": " in l and not l.startswith("#"))
    dtype = {"short": "<i2", "signed short": "<i2", "unsigned char": "u1", "uchar": "u1", "ushort": "<u2",
             "unsigned short": "<u2", "int": "<i4", "float": "<f4"}[head["type"]]
    raw = b[i + 2:]
    if head.get("encoding") == "gzip": raw = gzip.decompress(raw)
    sizes = [int(s) for s in head["sizes"].split()]
    return np.frombuffer(raw, dtype).reshape(sizes[::-1])


def read_mrc(b: bytes) -> np.ndarray:
    "MRC: a 1024-byte header (nx, ny, nz, mode first; extended header length at byte 92), then the raw array."
    nx, ny, nz, mode = struct.unpack("<4i", b[:16])
    next_ = struct.unpack("<i", b[92:96])[0]
    dtype = {0: "i1", 1: "<i2", 2: "<f4", 6: "<u2", 12: "<f2"}[mode]
    return np.frombuffer(b[1024 + next_:], dtype, count=nx * ny * nz).reshape(nz, ny, nx)


def window(a, lo, hi) -> np.ndarray:
    "CT windowing: map [lo, hi] HU linearly to 0..255, clip outside."
    return np.round(np.clip((a.astype(np.float32) - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8)


def stretch(a, p_lo=0.5, p_hi=99.5) -> np.ndarray:
    "Percentile contrast stretch of a high-bit-depth image to 8 bits."
    lo, hi = np.percentile(a, [p_lo, p_hi])
    return np.round(np.clip((a.astype(np.float32) - lo) / max(hi - lo, 1e-6), 0, 1) * 255).astype(np.uint8)


def resize_pair(img: np.ndarray, mask: np.ndarray, size):
    "Resize (w, h): image bilinear (antialiased by Pillow), mask nearest."
    im = Image.fromarray(img).resize(size, Image.BILINEAR)
    m = Image.fromarray(mask).resize(size, Image.NEAREST)
    return np.asarray(im), np.asarray(m)


class DomainWriter:
    "Writes one domain folder in the distillfss folder format."
    def __init__(self, name, classes, info):
        self.root = OUT / name
        if self.root.exists(): shutil.rmtree(self.root)
        (self.root / "images").mkdir(parents=True); (self.root / "masks").mkdir()
        self.classes, self.info, self.rows = classes, info, []
        (self.root / "classes.txt").write_text("\n".join(classes) + "\n")

    def add(self, stem, img, mask, group, pos):
        assert mask.max() <= len(self.classes), (stem, mask.max())
        Image.fromarray(img).save(self.root / "images" / f"{stem}.png", optimize=True)
        Image.fromarray(mask.astype(np.uint8)).save(self.root / "masks" / f"{stem}.png", optimize=True)
        self.rows.append((stem, group, *pos))

    def close(self, pos_names):
        lines = [",".join(["stem", "group", *pos_names])] + [",".join(map(str, r)) for r in self.rows]
        (self.root / "layout.csv").write_text("\n".join(lines) + "\n")
        self.info.update(pairs=len(self.rows), classes=self.classes)
        (self.root / "info.json").write_text(json.dumps(self.info, indent=1) + "\n")
        i = self.info
        (self.root / "README.md").write_text(
            f"# {i['title']}\n\n{i['description']}\n\n- Pairs: {len(self.rows)}; classes: {', '.join(self.classes)}\n"
            f"- Source: {i['source']}\n- Licence: {i['licence_id']} ({i['licence']})\n- Conversion: {i['conversion']}\n"
            f"- Split advice: {i['split']}\n\nRebuild with `python data_samples/build.py`.\n")
        print(f"{self.root.name}: {len(self.rows)} pairs")


def build_lung(src):
    arc = src / PACKAGES["pyradiomics"][1]
    w = DomainWriter("lung_ct", ["tumour"], dict(
        title="Lung CT: lung tumour", domain="medical (CT)",
        description="Axial CT slices of two patients with a lung tumour, from pyradiomics' test cases.",
        source="pyradiomics 3.0.1 sdist, data/lung{1,2}_{image,label}.nrrd", package_licence="BSD-3-Clause",
        licence_id="BSD-3-Clause", licence="BSD-3-Clause (pyradiomics, which distributes these test cases)", in_wheel=True,
        conversion="every slice with tumour; lung window [-1350, 150] HU to 8 bits; 512 to 256 px (image bilinear, mask nearest)",
        split="group = patient, pos = slice index; keep gap >= 1 slice between supports and tests",
        source_sha256=sha256(arc)))
    for case in ("lung1", "lung2"):
        img = read_nrrd(member(arc, f"data/{case}_image.nrrd")); lab = read_nrrd(member(arc, f"data/{case}_label.nrrd"))
        for z in np.where(lab.reshape(len(lab), -1).any(1))[0]:
            im, m = resize_pair(window(img[z], -1350, 150), (lab[z] > 0).astype(np.uint8), (256, 256))
            w.add(f"{case}_z{z:03d}", im, m, case, (int(z),))
    w.close(["z"])


def build_liver(src):
    arc = src / PACKAGES["liver"][1]
    w = DomainWriter("liver_ct", ["liver", "liver tumour"], dict(
        title="Liver CT: liver and liver tumour", domain="medical (CT), multi-class",
        description="Axial slices of LiTS case 117 (resampled to 128^3 by the package), every 4th slice.",
        source="liver-ct-segmentation-package 1.6.0 wheel, data/{img,lab}_117.mrc", package_licence="MIT",
        licence_id="CC-BY-NC-SA-4.0", licence="LiTS challenge data: CC BY-NC-SA 4.0 (non-commercial, share-alike); keep out of wheels",
        in_wheel=False,
        conversion="slices 0, 4, ..., 124; liver window [-160, 240] HU to 8 bits; labels 1 = liver, 2 = tumour",
        split="group = volume, pos = stored slice number (4 original slices apart); keep gap >= 1",
        source_sha256=sha256(arc)))
    img = read_mrc(member(arc, "data/img_117.mrc")); lab = read_mrc(member(arc, "data/lab_117.mrc"))
    for i, z in enumerate(range(0, len(img), 4)):
        w.add(f"lits117_s{i:02d}", window(img[z], -160, 240), lab[z].astype(np.uint8), "lits117", (i,))
    w.close(["z"])


def build_cells(src):
    arc = src / PACKAGES["scellseg"][1]
    w = DomainWriter("cells", ["cell"], dict(
        title="Microscopy: cells of seven imaging styles", domain="microscopy (fluorescence, phase)",
        description="Scellseg's contrast-learning examples: 5 images per cell type / style, instance masks merged to one 'cell' class.",
        source="scellseg 0.1.8 sdist, scellseg/assets/contrast_data/<type>/<id>_{img,masks}.png", package_licence="BSD-3-Clause",
        licence_id="BSD-3-Clause", licence="BSD-3-Clause (scellseg); the images come from public cell datasets gathered by the Cellpose/Scellseg authors, whose own terms may apply",
        in_wheel=True,
        conversion="instance masks > 0 -> class 1; longest side scaled to 256 px (image bilinear, mask nearest)",
        split="independent images (one group per image)", source_sha256=sha256(arc)))
    pairs = members(arc, "contrast_data")
    files = dict(pairs)
    for name, data in pairs:
        if not name.endswith("_img.png"): continue
        kind, stem = name.split("/")[-2], name.split("/")[-1][:-len("_img.png")]
        img = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        inst = np.asarray(Image.open(io.BytesIO(files[name.replace("_img.png", "_masks.png")])))
        h, wd = inst.shape; s = 256 / max(h, wd)
        im, m = resize_pair(img, (inst > 0).astype(np.uint8), (round(wd * s), round(h * s)))
        w.add(f"{kind}_{stem}", im, m, f"{kind}_{stem}", ())
    w.close([])


def tiles(img, mask, tile):
    for r in range(img.shape[0] // tile):
        for c in range(img.shape[1] // tile):
            sl = np.s_[r * tile:(r + 1) * tile, c * tile:(c + 1) * tile]
            yield r, c, img[sl], mask[sl]


def build_nuclei(src):
    arc = next(src.glob("stardist-0.9.2-*.whl"))
    import tifffile
    img = tifffile.imread(io.BytesIO(member(arc, "data/images/img2d.tif")))
    inst = tifffile.imread(io.BytesIO(member(arc, "data/images/mask2d.tif")))
    w = DomainWriter("nuclei", ["nucleus"], dict(
        title="Fluorescence nuclei", domain="microscopy (fluorescence)",
        description="One 512x512 fluorescence image of the 2018 Data Science Bowl (as shipped by stardist), cut into an 8x8 grid of 64 px tiles.",
        source="stardist 0.9.2 wheel, stardist/data/images/{img2d,mask2d}.tif", package_licence="BSD-3-Clause",
        licence_id="CC0-1.0", licence="BSD-3-Clause (stardist); the image is from the 2018 Data Science Bowl (BBBC038, CC0)",
        in_wheel=True,
        conversion="uint16 (0..235) to uint8; instance masks > 0 -> class 1; 64 px tiles, row/col in the grid",
        split="group = the large image, pos = (row, col) of the tile; keep gap >= 1 tile",
        source_sha256=sha256(arc)))
    img8 = np.clip(img, 0, 255).astype(np.uint8)
    for r, c, ti, tm in tiles(img8, (inst > 0).astype(np.uint8), 64):
        w.add(f"dsb_r{r}_c{c}", ti, tm, "dsb", (r, c))
    w.close(["row", "col"])


def build_roads(src):
    arc = src / PACKAGES["solaris"][1]
    import tifffile
    img = tifffile.imread(io.BytesIO(member(arc, "data/road_mask_input.tif")))
    mask = tifffile.imread(io.BytesIO(member(arc, "data/sample_road_raster_mask.tif")))
    w = DomainWriter("roads", ["road"], dict(
        title="Aerial roads", domain="remote sensing (panchromatic satellite image)",
        description="A 1300x1300 SpaceNet road image and its road mask (as shipped by solaris), cut into a 10x10 grid of 128 px tiles.",
        source="solaris 0.4.0 wheel, solaris/data/{road_mask_input,sample_road_raster_mask}.tif", package_licence="Apache-2.0",
        licence_id="CC-BY-SA-4.0", licence="Apache-2.0 (solaris); SpaceNet imagery and labels: CC BY-SA 4.0 (share-alike); keep out of wheels",
        in_wheel=False,
        conversion="11-bit panchromatic to 8 bits (0.5-99.5 percentile stretch over the whole image); mask 0/255 -> 0/1; 128 px tiles of the top-left 1280 px",
        split="group = the large image, pos = (row, col) of the tile; keep gap >= 1 tile",
        source_sha256=sha256(arc)))
    for r, c, ti, tm in tiles(stretch(img), (mask > 0).astype(np.uint8), 128):
        w.add(f"sn_r{r}_c{c}", ti, tm, "spacenet", (r, c))
    w.close(["row", "col"])


def build_buildings(src):
    arc = src / PACKAGES["solaris"][1]
    import tifffile
    from scipy import ndimage as ndi
    img = tifffile.imread(io.BytesIO(member(arc, "data/sample_geotiff.tif")))
    # the per-building masks are registered to the image; solaris' sample_fbc_from_df2px.tif is not (checked by eye:
    # its footprints lie beside the houses; IoU 0.04 with the footprints rasterised from the geojson)
    inst = tifffile.imread(io.BytesIO(member(arc, "data/sample_inst_mask.tif"))) > 0  # (H, W, 43): one per building
    cross = ndi.generate_binary_structure(2, 1)
    footprint = inst.any(-1)
    edge = np.zeros_like(footprint)
    for i in range(inst.shape[-1]):  # a 2 px ring straddling each outline
        m = inst[..., i]
        edge |= ndi.binary_dilation(m, cross) & ~ndi.binary_erosion(m, cross)
    near = sum(ndi.binary_dilation(inst[..., i], cross, iterations=12).astype(np.uint8) for i in range(inst.shape[-1]))
    contact = (near >= 2) & ~footprint  # ground within 12 px of two buildings: where neighbours almost touch
    mask = np.zeros(footprint.shape, np.uint8)
    mask[footprint], mask[edge], mask[contact] = 1, 2, 3  # the smaller structure wins where they overlap
    w = DomainWriter("buildings", ["building", "boundary", "contact"], dict(
        title="Building footprints, boundaries and contact zones", domain="remote sensing (satellite image, one band)",
        description="A 900x900 SpaceNet image and its 43 building masks (as shipped by solaris), cut into a 7x7 grid of 128 px tiles: footprints, their 2 px outlines, and the ground where two buildings come within 12 px.",
        source="solaris 0.4.0 wheel, solaris/data/{sample_geotiff,sample_inst_mask}.tif", package_licence="Apache-2.0",
        licence_id="CC-BY-SA-4.0", licence="Apache-2.0 (solaris); SpaceNet imagery and labels: CC BY-SA 4.0 (share-alike); keep out of wheels",
        in_wheel=False,
        conversion="16-bit band to 8 bits (0.5-99.5 percentile stretch over the whole image); building = any instance; boundary = 1 px dilation minus 1 px erosion of each instance; contact = outside buildings, within 12 px (4-connected dilation) of two; contact over boundary over building; 128 px tiles of the top-left 896 px",
        split="group = the large image, pos = (row, col) of the tile; keep gap >= 1 tile",
        source_sha256=sha256(arc)))
    for r, c, ti, tm in tiles(stretch(img), mask, 128):
        w.add(f"bf_r{r}_c{c}", ti, tm, "spacenet_buildings", (r, c))
    w.close(["row", "col"])


BUILDERS = dict(lung_ct=build_lung, liver_ct=build_liver, cells=build_cells, nuclei=build_nuclei, roads=build_roads,
                buildings=build_buildings)

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, help="folder holding (or receiving) the downloaded archives")
    ap.add_argument("--only", nargs="*", choices=list(BUILDERS), help="rebuild only these domains")
    ap.add_argument("--out", type=Path, default=HERE, help="folder to write the domains into (default: beside this script)")
    a = ap.parse_args()
    OUT = a.out
    with tempfile.TemporaryDirectory() as tmp:
        src = a.src or Path(tmp)
        download(src)
        for name in a.only or BUILDERS: BUILDERS[name](src)

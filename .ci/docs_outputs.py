#!/usr/bin/env python
"""Run the notebooks and keep their outputs, so that `nbdev_docs` renders pages with figures and tables.

The notebooks are stored without outputs (small diffs, no stale pictures). Before the documentation site is built,
this script executes each one as `nbdev_test` does (cells flagged with settings.ini's `tst_flags` and `#| eval: false`
are skipped, notebooks with `skip_exec` frontmatter are left as they are) and writes the outputs into the notebook.
Run it on a throwaway checkout (the docs workflow does), never commit what it writes.

    python .ci/docs_outputs.py [NOTEBOOK ...]     (default: every notebook under nbs/)
"""
import os, sys, time
from pathlib import Path

from execnb.nbio import write_nb
from execnb.shell import CaptureShell
from fastcore.basics import str2bool
from nbdev.config import get_config
from nbdev.process import NBProcessor
from nbdev.frontmatter import FrontmatterProc


def run(fn: Path, flags: set) -> float:
    "Execute `fn` in its folder, skipping flagged cells; write it back with its outputs. Returns seconds."
    nb = NBProcessor(fn, procs=FrontmatterProc, process=True).nb
    if str2bool(getattr(nb, "frontmatter_", {}).get("skip_exec", False)): return 0.0
    def skip(cell):
        if cell.cell_type != "code": return True
        d = getattr(cell, "directives_", {}) or {}
        return d.get("eval:", [""])[0].lower() == "false" or bool(flags & d.keys())
    t0, cwd = time.time(), os.getcwd()
    os.chdir(fn.parent)
    try: CaptureShell(fn).run_all(nb, exc_stop=True, preproc=skip)
    finally: os.chdir(cwd)
    for c in nb.cells:                                   # drop nbdev's parsed attributes before writing
        for a in ("directives_", "idx_"): c.pop(a, None)
    nb.pop("frontmatter_", None)
    write_nb(nb, fn)
    return time.time() - t0


if __name__ == "__main__":
    cfg = get_config()
    flags = set(cfg.get("tst_flags", "").split())
    nbs = [Path(a) for a in sys.argv[1:]] or sorted(p for p in Path(cfg.config_path / cfg.nbs_path).rglob("*.ipynb")
                                                   if not p.name.startswith("_") and ".ipynb_checkpoints" not in p.parts and "_out" not in p.parts)
    os.environ["IN_TEST"] = "1"
    if len(nbs) == 1: print(f"{nbs[0]}: {run(nbs[0].resolve(), flags):.0f} s", flush=True)
    else:                                                # one fresh interpreter per notebook, as nbdev_test runs them
        import subprocess
        for fn in nbs: subprocess.run([sys.executable, __file__, str(fn)], check=True)

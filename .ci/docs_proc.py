#!/usr/bin/env python
"""The Quarto-free half of `nbdev_docs`: process every notebook into _proc/ as the documentation build does, and
fail on any warning or error.

nbdev's docs processing executes each documented notebook's exported cells and its cells that import something (to
render `show_doc`). A cell that mixes imports with other code is executed whole, so a slow or failing computation
would run, or break, while the site is built; nbdev warns about each such cell. Here every warning is an error.

    python .ci/docs_proc.py
"""
import sys, time, warnings

from nbdev.quarto import nbdev_sidebar
from nbdev.serve import proc_nbs

t0 = time.time()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    nbdev_sidebar.__wrapped__()
    cache = proc_nbs(n_workers=0, force=True)
caught = [w for w in caught if not issubclass(w.category, DeprecationWarning)]
for w in caught:
    print(f"{w.category.__name__}: {str(w.message).strip()[:2000]}\n")
pages = sorted(p.relative_to(cache) for p in cache.rglob("*.ipynb"))
print(f"   {len(pages)} notebooks processed into {cache} in {time.time() - t0:.0f} s, {len(caught)} warnings")
sys.exit(1 if caught else 0)

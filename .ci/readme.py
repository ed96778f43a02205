"""README.md is generated from nbs/index.ipynb (Quarto, which nbdev_readme needs, is not available everywhere).

    python .ci/readme.py           write README.md
    python .ci/readme.py --check   exit 1 if README.md differs from what index.ipynb gives

Markdown cells are copied, code cells become ```python blocks, cells marked `#| hide` are left out.
"""
import json, sys
from pathlib import Path

root = Path(__file__).resolve().parents[1]

def render(nb_path: Path) -> str:
    cells = json.loads(nb_path.read_text(encoding="utf-8"))["cells"]
    out = []
    for c in cells:
        src = "".join(c["source"]).strip("\n")
        lines = src.splitlines()
        if any(l.strip().replace(" ", "") in ("#|hide", "#|exporti", "#|hide_input") for l in lines): continue
        if c["cell_type"] == "markdown": out.append(src)
        elif c["cell_type"] == "code":
            code = "\n".join(l for l in lines if not l.startswith("#|")).strip("\n")
            if code: out.append(f"```python\n{code}\n```")
    return "<!-- generated from nbs/index.ipynb by .ci/readme.py: edit the notebook, not this file -->\n\n" + "\n\n".join(out) + "\n"

if __name__ == "__main__":
    want = render(root / "nbs" / "index.ipynb")
    readme = root / "README.md"
    if "--check" in sys.argv:
        if not readme.exists() or readme.read_text(encoding="utf-8") != want:
            print("README.md is out of date with nbs/index.ipynb: run python .ci/readme.py"); sys.exit(1)
        print("README.md matches nbs/index.ipynb")
    else:
        readme.write_text(want, encoding="utf-8"); print("wrote", readme)

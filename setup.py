"""Packaging for distillfss: every setting comes from settings.ini (nbdev 2 layout)."""
import json, shutil
from configparser import ConfigParser
from pathlib import Path

import setuptools
from setuptools.command.build_py import build_py

here = Path(__file__).parent
config = ConfigParser(delimiters=["="])
config.read(here / "settings.ini", encoding="utf-8")
cfg = config["DEFAULT"]

licenses = {"apache2": ("Apache Software License 2.0", "OSI Approved :: Apache Software License")}
lic = licenses[cfg["license"]]
statuses = ["1 - Planning", "2 - Pre-Alpha", "3 - Alpha", "4 - Beta", "5 - Production/Stable", "6 - Mature", "7 - Inactive"]
py_versions = "3.10 3.11 3.12 3.13".split()
min_python = cfg["min_python"]

requirements = cfg.get("requirements", "").split()
dev_requirements = cfg.get("dev_requirements", "").split()
onnx_requirements = cfg.get("onnx_requirements", "").split()
grid_requirements = cfg.get("grid_requirements", "").split()
benchmark_requirements = cfg.get("benchmark_requirements", "").split()
console_scripts = cfg.get("console_scripts", "").split()


class build_py_with_samples(build_py):
    "Also copy the sample domains whose info.json says in_wheel (permissive licences) into the package's data_samples/."
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False): return          # an editable install reads the clone's data_samples
        src, dst = here / "data_samples", Path(self.build_lib) / cfg["lib_path"] / "data_samples"
        for info in sorted(src.glob("*/info.json")):
            if json.loads(info.read_text(encoding="utf-8")).get("in_wheel") is True:
                shutil.copytree(info.parent, dst / info.parent.name, dirs_exist_ok=True)
        if dst.is_dir(): shutil.copy(src / "README.md", dst / "README.md")


setuptools.setup(
    cmdclass={"build_py": build_py_with_samples},
    name=cfg["lib_name"],
    version=cfg["version"],
    license=lic[0],
    classifiers=[
        "Development Status :: " + statuses[int(cfg["status"])],
        "Intended Audience :: " + cfg["audience"].title(),
        "Natural Language :: " + cfg["language"].title(),
        "License :: " + lic[1],
        "Topic :: Scientific/Engineering :: Image Recognition",
    ] + [f"Programming Language :: Python :: {v}" for v in py_versions[py_versions.index(min_python):]],
    url=cfg["git_url"],
    packages=setuptools.find_packages(include=["distillfss", "distillfss.*"]),
    include_package_data=True,
    install_requires=requirements,
    extras_require={"dev": dev_requirements, "onnx": onnx_requirements, "grid": grid_requirements, "benchmark": benchmark_requirements},
    python_requires=">=" + min_python,
    long_description=(here / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    zip_safe=False,
    entry_points={"console_scripts": console_scripts, "nbdev": [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
    author=cfg["author"],
    author_email=cfg["author_email"],
    description=cfg["description"],
    keywords=cfg["keywords"],
)

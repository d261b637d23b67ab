"""Is this machine ready for the labs? The logic behind notebooks/00_setup.ipynb.

Three checks, each line printed OK, WARN or FAIL, with what to do about a warning or a failure:

1. the installed packages against the exact pins in requirements.txt: the pin is what was tested
   (OK); another release of the same major version (major.minor for 0.x) is a warning (the labs
   run; numbers may differ a little); a missing package or another major version fails (the labs
   break). Tools only instructors and the tests use (`INSTRUCTOR_TOOLS`) warn when missing;
2. the device the labs will use (`helpers.runtime.pick_device`) and what else is available;
3. the datasets: whether each can be loaded from what is on disk, without downloading.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from helpers import data, runtime
from helpers.config import REPO
from helpers.errors import LabError

REQUIREMENTS = REPO / "requirements.txt"
DATASETS = ("fashion-mnist", "cifar10")
NEEDED_BY = {"fashion-mnist": "the smoke and quick profiles", "cifar10": "the full profile"}
FIX_PACKAGES = "run `make install` (or `.venv/bin/pip install -r requirements.txt -e .`) and restart the kernel"
# not imported by any lab: missing only means `make test`, `verify`, `grade` or JupyterLab will not run here
INSTRUCTOR_TOOLS = {"pytest", "hypothesis", "ruff", "nbval", "nbgrader", "jupyterlab", "psycopg", "psycopg-binary"}


@dataclass
class Check:
    """One line of the report: what was checked, whether it is fine, and what to do if not."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warn: bool = False  # ok, but not as tested: said, not failed

    def line(self) -> str:
        label = "FAIL" if not self.ok else "WARN" if self.warn else "OK  "
        text = f"{label}  {self.name}: {self.detail}"
        fix = self.fix.replace("\n", "\n         ")
        return text if (self.ok and not self.warn) or not self.fix else f"{text}\n      -> {fix}"


def pins(path: str | Path = REQUIREMENTS) -> dict[str, str]:
    """{package: pinned version} from a requirements file of exact `name==version` pins."""
    found = {}
    for line in Path(path).read_text().splitlines():
        entry = line.split("#")[0].strip()
        if "==" in entry:
            name, pin = entry.split("==", 1)
            found[name.strip()] = pin.strip()
    return found


def _series(v: str) -> tuple[str, ...]:
    """The part of a version that promises compatibility: the major number (major.minor for 0.x)."""
    parts = v.split(".")
    return tuple(parts[:2]) if parts[0] == "0" else tuple(parts[:1])


def check_versions(path: str | Path = REQUIREMENTS) -> list[Check]:
    """Each pinned package: installed at its pin (OK), drifted within its series (WARN), or
    missing / another major version (FAIL; a missing instructor tool only warns)."""
    if not Path(path).is_file():  # an installed package: no requirements.txt beside it
        return [
            Check(
                "requirements.txt",
                True,
                f"not found at {path}: versions not compared with the pins",
                "run the check from a clone of the repository to compare them",
                warn=True,
            )
        ]
    checks = []
    for name, pin in pins(path).items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            tool = name in INSTRUCTOR_TOOLS
            why = " (tests and instructor tools only; the labs run without it)" if tool else ""
            checks.append(Check(name, tool, f"not installed (requirements.txt pins {pin}){why}", FIX_PACKAGES, tool))
            continue
        release = installed.split("+")[0]
        if release == pin:
            checks.append(Check(name, True, installed))
        elif _series(release) == _series(pin):
            detail = f"{installed} installed, requirements.txt pins {pin}: the labs run; numbers may differ a little"
            checks.append(Check(name, True, detail, f"{FIX_PACKAGES}, for the tested versions", warn=True))
        else:
            detail = f"{installed} installed, requirements.txt pins {pin}: another major version breaks the labs"
            checks.append(Check(name, False, detail, FIX_PACKAGES))
    return checks


def check_device(name: str = "auto") -> Check:
    """The device `name` resolves to here, described; FAIL with the alternatives if it is missing."""

    try:
        device = runtime.pick_device(name)
    except LabError as err:
        return Check("device", False, str(err), "set device='auto' (or one of the available devices) in the lab")
    others = ", ".join(runtime.available_devices())
    note = "" if device.type != "cpu" else "; no GPU found: the labs default to the quick profile (minutes per lab)"
    return Check("device", True, f"{runtime.describe(device)} (available: {others}){note}")


def check_datasets(data_dir: str | Path | None = None, names=DATASETS) -> list[Check]:
    """Each dataset loadable from disk, without downloading? The fix is the loader's own message."""

    checks = []
    for name in names:
        try:
            ds = data.load(name, data_dir, download=False)
        except LabError as err:
            needed = f" (needed by {NEEDED_BY[name]})" if name in NEEDED_BY else ""
            checks.append(Check(f"dataset {name}", False, f"not found on this machine{needed}", str(err)))
            continue
        checks.append(Check(f"dataset {name}", True, f"{ds.summary()} (from {ds.source})"))
    return checks


def run_checks(device: str = "auto", data_dir: str | Path | None = None, datasets=DATASETS) -> list[Check]:
    """Every check of the setup notebook, printed as it goes; returns them all."""
    sections = [
        ("Packages (requirements.txt)", check_versions),
        ("Device", lambda: [check_device(device)]),
        ("Datasets", lambda: check_datasets(data_dir, datasets)),
    ]
    checks = []
    for title, run in sections:
        print(f"\n{title}")
        for check in run():
            print(check.line())
            checks.append(check)
    failed = [c.name for c in checks if not c.ok]
    warned = [c.name for c in checks if c.ok and c.warn]
    print(
        f"\n{len(checks) - len(failed)} of {len(checks)} checks OK"
        + (f"; to fix: {', '.join(failed)}" * bool(failed))
        + (f"; not as tested: {', '.join(warned)}" * bool(warned))
    )
    return checks

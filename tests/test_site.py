"""The course's website: built from the suite's one smoke run of every lab, then read in a real browser.

Headless Chromium (Debian's `chromium`, driven by Playwright without a browser download of its own)
opens the home page and every lab page: each lab page must show at least one figure that loaded,
and no link inside the site may point at a page or anchor that is not there. Screenshots of the
home page and lab 01's page are saved beside the built site (the path is printed) for a person to
look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest
from lab_run import smoke_output

from helpers import catalog

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    pytest.importorskip("sphinx", reason="the site needs Sphinx and myst-nb (requirements.txt)")
    from helpers.course import site

    out_dir, proc = smoke_output()
    executed = [p for p in out_dir.glob("*.ipynb")]
    assert len(executed) == len(catalog.LABS), f"the smoke run executed {len(executed)} labs:\n{proc.stdout}"
    out = tmp_path_factory.mktemp("site") / "html"
    return site.build(profile="smoke", executed=out_dir, out=out).parent


def test_every_lab_has_a_page_with_its_figures_and_launch_links(built_site):
    from bs4 import BeautifulSoup

    for entry in catalog.LABS:
        page = built_site / "labs" / f"{entry.name}.html"
        assert page.exists(), f"no page for {entry.name}"
        soup = BeautifulSoup(page.read_text(), "html.parser")
        images = [img for img in soup.find_all("img") if (page.parent / img["src"]).is_file()]
        assert images, f"{entry.name}: its page shows no figure"
        hrefs = [a.get("href", "") for a in soup.find_all("a")]
        assert any("colab.research.google.com" in h for h in hrefs), f"{entry.name}: no Colab link"
        assert any("kaggle.com" in h for h in hrefs), f"{entry.name}: no Kaggle link"
        folded = soup.select("div.tag_hide-input")
        assert folded, f"{entry.name}: its solutions are not folded"


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium: `apt-get install chromium` for the browser test")
def test_the_site_in_a_real_browser(built_site):
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright drives the browser (requirements.txt)")
    pages = [built_site / "index.html"] + [built_site / "labs" / f"{e.name}.html" for e in catalog.LABS]
    broken, shots = [], built_site.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        for page in pages:
            tab.goto(page.as_uri())
            tab.wait_for_load_state("load")
            if page.parent.name == "labs":
                shown = tab.evaluate("[...document.images].filter(i => i.complete && i.naturalWidth > 0).length")
                assert shown >= 1, f"{page.name}: no figure rendered in the browser"
            for href in tab.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)"):
                target, anchor = urldefrag(href)
                if urlparse(target).scheme != "file":
                    continue
                path = Path(urlparse(target).path)
                if not path.exists():
                    broken.append(f"{page.name} -> {href}")
                elif anchor and path.suffix == ".html" and f'id="{anchor}"' not in path.read_text():
                    broken.append(f"{page.name} -> {href} (no such anchor)")
            if page.name in ("index.html", "01_sanity_checks.html"):
                tab.screenshot(path=str(shots / f"{page.stem}.png"), full_page=False)
        browser.close()
    assert not broken, "broken links inside the site:\n" + "\n".join(sorted(set(broken)))
    print(f"screenshots: {shots}")


def test_make_site_executes_only_the_labs_whose_notebook_changed(tmp_path, monkeypatch):
    from helpers.course import runner, site

    labs = tmp_path / "labs"
    labs.mkdir()
    for entry in catalog.LABS:
        (labs / f"{entry.name}.ipynb").write_bytes((runner.LABS_DIR / f"{entry.name}.ipynb").read_bytes())
    ran = []

    def fake_run(names, *, profile, out):
        (name,) = names
        ran.append(name)
        (Path(out) / f"{name}.ipynb").write_text("{}")
        return [runner.RunResult(name, "failed" if name == "05_regularization" else "ok", 1.0, Path(out))]

    monkeypatch.setattr(runner, "LABS_DIR", labs)
    monkeypatch.setattr(runner, "run", fake_run)
    executed = tmp_path / "executed"
    executed.mkdir()
    assert site.execute("quick", executed) == ["05_regularization"] and len(ran) == len(catalog.LABS)
    ran.clear()
    assert site.execute("quick", executed) == ["05_regularization"] and ran == ["05_regularization"], (
        "a failed lab runs again"
    )
    (labs / "03_augmentation.ipynb").write_text((labs / "03_augmentation.ipynb").read_text() + "\n")
    ran.clear()
    site.execute("quick", executed)
    assert ran == ["03_augmentation", "05_regularization"]

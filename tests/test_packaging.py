"""The desktop packaging: the .desktop entry, the AppStream metainfo, the icon renders, the PyInstaller entry and the
menu installer agree with pyproject.toml and with each other, and the studio finds its icon.

The frozen build itself is far too slow for the suite (packaging/build_frozen.sh builds and smoke-tests it)."""

from __future__ import annotations

import ast
import configparser
import importlib.util
import os
import shutil
import struct
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import goodsad_studio
from goodsad_studio.gui import launch

REPO = Path(__file__).resolve().parents[1]
LINUX = REPO / "packaging" / "linux"
ICONS = REPO / "resources" / "icons"
SPEC = REPO / "packaging" / "pyinstaller" / "goodsad-studio.spec"
APP_ID = launch.APP_ID
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
INSTALL = LINUX / "install.sh"


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # desktop entry keys are case-sensitive
    parser.read_string(DESKTOP.read_text(encoding="utf-8"), source=str(DESKTOP))
    return parser["Desktop Entry"]


@pytest.fixture(scope="module")
def metainfo() -> ET.Element:
    return ET.parse(METAINFO).getroot()


def png_header(path: Path) -> tuple[int, int, int]:
    """(width, height, colour type) from a PNG's IHDR chunk."""
    data = path.read_bytes()[:26]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height, _depth, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, colour


# ---- the desktop entry -------------------------------------------------------------------------------------------


def test_desktop_entry_launches_the_console_script_with_the_app_icon(entry, pyproject):
    scripts = pyproject["project"]["scripts"]
    command, *codes = entry["Exec"].split()
    assert command in scripts and scripts[command] == "goodsad_studio.cli:main"
    assert codes == ["%f"], "the studio opens one dataset root: %f, not %F (it takes a single path)"
    assert entry["Type"] == "Application" and entry["Terminal"] == "false"
    assert entry["Icon"] == APP_ID
    categories = entry["Categories"].rstrip(";").split(";")
    assert {"Graphics", "Science"} <= set(categories)
    assert entry["Name"] and entry["Comment"] and not entry["Comment"].endswith(".")


def test_desktop_entry_is_named_after_the_app_id_used_everywhere(metainfo):
    assert metainfo.findtext("id") == APP_ID
    assert metainfo.find("launchable[@type='desktop-id']").text == DESKTOP.name
    assert metainfo.findtext("icon[@type='stock']") == APP_ID


def test_desktop_entry_passes_desktop_file_validate():
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("desktop-file-validate is not installed (apt-get install desktop-file-utils)")
    result = subprocess.run([tool, str(DESKTOP)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout.lower()


# ---- the AppStream metainfo --------------------------------------------------------------------------------------


def test_metainfo_release_and_license_match_pyproject(metainfo, pyproject):
    releases = [release.get("version") for release in metainfo.iter("release")]
    assert releases and releases[0] == pyproject["project"]["version"] == goodsad_studio.__version__
    assert metainfo.findtext("project_license") == pyproject["project"]["license"]  # an SPDX expression
    assert metainfo.findtext("metadata_license") == "CC0-1.0"
    assert metainfo.get("type") == "desktop-application"
    assert metainfo.find("content_rating").get("type").startswith("oars-")
    assert [b.text for b in metainfo.iter("binary")] == list(pyproject["project"]["scripts"])


def test_metainfo_describes_the_app_with_screenshots_from_the_docs(metainfo):
    assert metainfo.findtext("name") and metainfo.findtext("summary")
    assert len(metainfo.find("description").findall("p")) >= 1
    images = [image.text for image in metainfo.iter("image")]
    assert images, "no screenshots"
    for url in images:
        assert url.startswith("https://") and "/docs/screenshots/" in url, url
        local = REPO / "docs" / "screenshots" / url.rsplit("/docs/screenshots/", 1)[1]
        assert local.is_file(), f"the screenshot {url} names {local}, which does not exist"
    defaults = [shot for shot in metainfo.iter("screenshot") if shot.get("type") == "default"]
    assert len(defaults) == 1 and defaults[0].findtext("caption")


def test_metainfo_passes_appstreamcli_validate():
    tool = shutil.which("appstreamcli")
    if tool is None:
        pytest.skip("appstreamcli is not installed (apt-get install appstream)")
    result = subprocess.run([tool, "validate", "--no-net", str(METAINFO)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# ---- the icon ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", launch.ICON_SIZES)
def test_icon_render_exists_at_its_size_with_transparent_corners(size):
    import cv2

    path = ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
    assert path.is_file(), f"missing {path}: run packaging/render_icons.py"
    assert png_header(path) == (size, size, 6), "expected an RGBA PNG of the declared size"
    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    alpha = pixels[..., 3]
    assert alpha[0, 0] == 0 and alpha[-1, -1] == 0, "the rounded backdrop leaves the corners transparent"
    assert alpha[size // 2, size // 2] == 255
    assert pixels[..., :3][alpha == 255].std() > 20, "an icon, not a flat square"


def test_icon_renders_are_up_to_date_with_their_svgs(qapp):
    spec = importlib.util.spec_from_file_location("render_icons", REPO / "packaging" / "render_icons.py")
    render_icons = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render_icons)
    import cv2

    for size, svg in ((16, render_icons.SMALL_SVG), (64, render_icons.LARGE_SVG)):
        image = render_icons.render(svg, size)  # ARGB32: BGRA bytes in memory, the channel order cv2 reads
        fresh = np.frombuffer(image.constBits(), np.uint8).reshape(size, size, 4)
        committed = cv2.imread(str(render_icons.png_path(size)), cv2.IMREAD_UNCHANGED)
        difference = np.abs(fresh.astype(int) - committed.astype(int)).max()
        assert difference <= 2, f"{size}px PNG differs from {svg.name}: run packaging/render_icons.py"


def test_studio_sets_the_icon_and_desktop_file_name_from_a_checkout(qapp):
    files = launch.icon_files()
    assert [int(path.parent.parent.name.split("x")[0]) for path in files] == list(launch.ICON_SIZES)
    launch.configure_application(qapp)
    icon = qapp.windowIcon()
    assert not icon.isNull()
    sizes = {(s.width(), s.height()) for s in icon.availableSizes()}
    assert {(n, n) for n in launch.ICON_SIZES} <= sizes
    assert qapp.desktopFileName() == APP_ID
    assert qapp.applicationName() == "goodsad-studio"


def test_studio_finds_the_icon_in_a_frozen_build(tmp_path, monkeypatch):
    bundle = tmp_path / "_internal"
    shutil.copytree(ICONS, bundle / "resources" / "icons")
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    monkeypatch.setattr(launch, "__file__", str(tmp_path / "elsewhere" / "gui" / "launch.py"))
    files = launch.icon_files()
    assert len(files) == len(launch.ICON_SIZES)
    assert all(path.is_relative_to(bundle) for path in files)


def test_studio_runs_without_an_icon_when_resources_are_absent(tmp_path, monkeypatch, qapp):
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "empty-bundle"), raising=False)
    monkeypatch.setattr(launch, "__file__", str(tmp_path / "site-packages" / "goodsad_studio" / "gui" / "launch.py"))
    assert launch.resources_dir() is None and launch.icon_files() == []
    launch.application_icon()  # no exception: a null icon or the theme's


# ---- the frozen build's entry ------------------------------------------------------------------------------------


def _main_guard_body(tree: ast.Module) -> list[ast.stmt]:
    for node in tree.body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            return node.body
    raise AssertionError("no `if __name__ == '__main__':` block")


@pytest.mark.parametrize("script", ["packaging/pyinstaller/goodsad_studio_entry.py", "goodsad_studio/__main__.py"])
def test_entry_calls_freeze_support_before_the_cli(script):
    body = _main_guard_body(ast.parse((REPO / script).read_text()))
    assert ast.unparse(body[0]) == "multiprocessing.freeze_support()", "freeze_support must come first"
    source = "\n".join(ast.unparse(node) for node in body)
    assert "from goodsad_studio.cli import main" in source and "sys.exit(main())" in source


def _literal_assignments(tree: ast.Module) -> dict:
    """``NAME = <literal>`` statements at a module's top level."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return found


def test_pyinstaller_spec_names_an_entry_that_exists_and_bundles_icons_and_weights(pyproject):
    constants = _literal_assignments(ast.parse(SPEC.read_text()))
    assert (SPEC.parent / constants["ENTRY_SCRIPT"]).is_file()
    assert constants["APP_NAME"] in pyproject["project"]["scripts"]
    assert "tkinter" in constants["EXCLUDES"] and "pytest" in constants["EXCLUDES"]
    source = SPEC.read_text()
    assert 'REPO / "resources" / "icons"' in source and '"resources/icons"' in source  # where launch.py looks
    pin = next(line.split()[0] for line in (REPO / "packaging" / "weights.lock").read_text().splitlines()
               if line.startswith(f"{constants['OFFLINE_WEIGHTS']}=="))  # fmt: skip
    assert f"OFFLINE_WEIGHTS={pin} " in (REPO / "packaging" / "build_frozen.sh").read_text(), "another version"


# ---- the menu installer ------------------------------------------------------------------------------------------


def _fake_venv(root: Path) -> Path:
    exe = root / "bin" / "goodsad-studio"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\necho goodsad-studio 0.0\n")
    exe.chmod(0o755)
    return exe


def _run_install(data: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_DATA_HOME": str(data)}
    return subprocess.run(["bash", str(INSTALL), *args], capture_output=True, text=True, env=env, timeout=60)


def test_install_script_puts_entry_icons_and_metainfo_under_xdg_data_home_and_uninstalls(tmp_path):
    exe = _fake_venv(tmp_path / "my venv")  # a space in the path: Exec quotes it
    data = tmp_path / "data"
    result = _run_install(data, str(tmp_path / "my venv"))
    assert result.returncode == 0, result.stderr
    installed = data / "applications" / DESKTOP.name
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read_string(installed.read_text())
    assert parser["Desktop Entry"]["Exec"] == f'"{exe}" %f'
    assert parser["Desktop Entry"]["TryExec"] == str(exe)
    assert parser["Desktop Entry"]["Icon"] == APP_ID
    for size in launch.ICON_SIZES:
        icon = data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        assert png_header(icon)[:2] == (size, size)
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").is_file()
    assert (data / "metainfo" / METAINFO.name).read_text() == METAINFO.read_text()

    result = _run_install(data, "--uninstall")
    assert result.returncode == 0, result.stderr
    assert not [p for p in data.rglob("*") if p.is_file() and APP_ID in p.name]


def test_install_script_refuses_a_target_without_the_studio_and_installs_nothing(tmp_path):
    data = tmp_path / "data"
    (tmp_path / "empty").mkdir()
    result = _run_install(data, str(tmp_path / "empty"))
    assert result.returncode != 0
    assert str(tmp_path / "empty") in result.stderr and "bin/goodsad-studio" in result.stderr
    assert not data.exists()


def _fake_tools(root: Path, packages: str) -> tuple[Path, Path]:
    """A studio whose ``system-libs --packages`` names ``packages``, and an apt-get (and sudo) that note their
    arguments instead of installing anything."""
    exe = root / "venv" / "bin" / "goodsad-studio"
    exe.parent.mkdir(parents=True)
    exe.write_text(f'#!/bin/sh\n[ "$1 $2" = "system-libs --packages" ] && echo "{packages}"\nexit 0\n')
    exe.chmod(0o755)
    tools, noted = root / "tools", root / "apt-get.args"
    tools.mkdir()
    for tool in ("apt-get", "sudo"):
        script = tools / tool
        body = f'echo "$@" >> "{noted}"' if tool == "apt-get" else 'exec "$@"'
        script.write_text(f"#!/bin/sh\n{body}\n")
        script.chmod(0o755)
    return exe.parent.parent, noted


@pytest.mark.parametrize("packages", ["libxcb-icccm4 libxcb-keysyms1", ""])
def test_install_script_apt_gets_the_system_libraries_the_studio_names(tmp_path, packages):
    venv, noted = _fake_tools(tmp_path, packages)
    env = {**os.environ, "PATH": f"{tmp_path / 'tools'}:{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", str(INSTALL), "--system-libs", str(venv)], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    if packages:
        assert noted.read_text().split() == ["install", "-y", *packages.split()]
    else:
        assert not noted.exists() and "every system library Qt needs is installed" in result.stdout

"""Run PyDyNet 1.1's own material on pydyfast: fetch its source distribution and rewrite the
import lines of its scripts (and nothing else) to a chosen package."""
import re
import subprocess
import sys
import tarfile
from pathlib import Path

PYDYNET_VERSION = "1.1"
REPO_ROOT = Path(__file__).resolve().parents[1]
SDIST_CACHE = REPO_ROOT / "build" / "pydynet-sdist"

# "import pydynet", "import pydynet.nn as nn", "from pydynet import X", "from pydynet.x import Y"
_IMPORT_LINE = re.compile(r"^(\s*(?:import|from)\s+)pydynet(?=[\s.,]|$)", re.MULTILINE)


def rewrite_imports(source, package="pydyfast.pydynet"):
    """``source`` with every ``import pydynet...``/``from pydynet...`` line importing ``package``
    instead; other lines are untouched (a plain ``import pydynet`` keeps the name by ``as``)."""

    def replace(match):
        return match.group(1) + package

    rewritten = _IMPORT_LINE.sub(replace, source)
    # "import pydynet" alone bound the name pydynet; keep that binding.
    return re.sub(rf"^(\s*import\s+{re.escape(package)})\s*$", r"\1 as pydynet", rewritten,
                  flags=re.MULTILINE)


def rewrite_folder(src, dst, package="pydyfast.pydynet", pattern="*.py"):
    """Copy the ``pattern`` files of ``src`` into ``dst`` with their imports rewritten."""
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(src).glob(pattern)):
        (dst / path.name).write_text(rewrite_imports(path.read_text(encoding="utf-8"), package),
                                     encoding="utf-8")
    return dst


def fetch_sdist(cache=SDIST_CACHE, timeout=180):
    """PyDyNet's sdist extracted under ``cache`` (downloaded once with pip). Returns its folder,
    or raises RuntimeError saying why the download failed."""
    folder = Path(cache) / f"pydynet-{PYDYNET_VERSION}"
    if (folder / "tests").is_dir():
        return folder
    Path(cache).mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
           ":all:", f"pydynet=={PYDYNET_VERSION}", "--dest", str(cache)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"pip download pydynet=={PYDYNET_VERSION} timed out") from exc
    archive = Path(cache) / f"pydynet-{PYDYNET_VERSION}.tar.gz"
    if done.returncode != 0 or not archive.exists():
        raise RuntimeError(f"pip download pydynet=={PYDYNET_VERSION} failed: "
                           f"{(done.stderr or done.stdout).strip()[-500:]}")
    with tarfile.open(archive) as tar:
        tar.extractall(cache, filter="data")
    return folder

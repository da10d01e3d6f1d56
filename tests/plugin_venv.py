"""A throwaway virtual environment for installing plugin packages with pip, as a user would.

The venv is made with ``--system-site-packages`` so torch and friends are not installed again.
When the tests themselves run inside a virtualenv (``.venv``), "system" would mean the base
interpreter, which lacks kinograph and torch; so a ``.pth`` file bridges the venv to the
environment running the tests, the way a user's system-wide installs would be visible. Packages
installed with pip land in the venv's own site-packages and are uninstalled from there.

The venv is made ``--without-pip`` (ensurepip takes seconds); its ``pip`` and ``kinograph``
and ``pytest`` scripts are the launchers pip writes for console entry points.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import kinograph

REPO = Path(kinograph.__file__).resolve().parents[1]
OFFLINE = ["--no-deps", "--no-build-isolation", "--no-index", "--disable-pip-version-check", "--no-input"]

BRIDGE = '''"""Makes the test-running environment's packages visible, as system site-packages would be."""
import site
import sys

for _path in {paths!r}:
    if _path not in sys.path:
        site.addsitedir(_path)
'''

LAUNCHER = """#!{python}
import sys
from {module} import {function}
if __name__ == "__main__":
    sys.exit({function}())
"""


class PluginVenv:
    """A venv under ``root`` with helpers to pip-install packages and run ``kinograph`` in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "venv"
        subprocess.run(
            [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(self.path)],
            check=True,
            capture_output=True,
        )
        self.bin = self.path / ("Scripts" if os.name == "nt" else "bin")
        self.python = self.bin / "python"
        self.site_packages = Path(
            subprocess.run(
                [str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
        )
        outer = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], str(REPO)]
        (self.site_packages / "_kinograph_test_bridge.py").write_text(BRIDGE.format(paths=outer))
        (self.site_packages / "_kinograph_test_bridge.pth").write_text("import _kinograph_test_bridge\n")
        self._launcher("pip", "pip._internal.cli.main", "main")
        self._launcher("kinograph", "kinograph.cli.main", "entry")
        self._launcher("pytest", "pytest", "console_main")

    def _launcher(self, name: str, module: str, function: str) -> None:
        script = self.bin / name
        script.write_text(LAUNCHER.format(python=self.python, module=module, function=function))
        script.chmod(0o755)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a shell with this venv activated (plugin switches cleared)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KINOGRAPH_", "PYTHON", "PIP_"))}
        env.update(
            VIRTUAL_ENV=str(self.path),
            PATH=f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
            PYTHONNOUSERSITE="1",
            PYTHONDONTWRITEBYTECODE="1",
            PIP_NO_INDEX="1",  # never reach the network, whatever a command says
        )
        if os.environ.get("KINOGRAPH_HOME"):
            env["KINOGRAPH_HOME"] = os.environ["KINOGRAPH_HOME"]
        env["QT_QPA_PLATFORM"] = "offscreen"
        env.update(extra)
        return env

    def run(self, args: list[str], cwd: Path | None = None, **extra_env: str) -> subprocess.CompletedProcess[str]:
        """Run a command with the venv active; ``args[0]`` is looked up in the venv first."""
        program = shutil.which(args[0], path=str(self.bin)) or args[0]
        return subprocess.run(
            [program, *args[1:]],
            cwd=cwd or self.root,
            env=self.env(**extra_env),
            capture_output=True,
            text=True,
            timeout=300,
        )

    def kinograph(self, *args: str, cwd: Path | None = None, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return self.run(["kinograph", *args], cwd=cwd, **extra_env)

    def pip_install(self, *targets: str, editable: bool = False, cwd: Path | None = None) -> None:
        """``pip install`` local packages, offline (their dependencies are already there)."""
        args = ["pip", "install", *OFFLINE]
        for target in targets:
            args += ["-e", target] if editable else [target]
        done = self.run(args, cwd=cwd)
        if done.returncode != 0:
            raise AssertionError(f"pip install failed:\n{done.stdout}\n{done.stderr}")

    def pip_uninstall(self, *names: str) -> None:
        done = self.run(["pip", "uninstall", "-y", *names])
        if done.returncode != 0:
            raise AssertionError(f"pip uninstall failed:\n{done.stdout}\n{done.stderr}")

    def installed(self) -> set[str]:
        """Distribution names installed in the venv itself (not the bridged environment)."""
        return {p.name.split("-")[0].lower() for p in self.site_packages.glob("*.dist-info")}


def copy_package(source: Path, target: Path) -> Path:
    """Copy a package's sources, leaving build leftovers behind (pip builds in the copy)."""
    shutil.copytree(
        source,
        target,
        ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "out"),
    )
    return target

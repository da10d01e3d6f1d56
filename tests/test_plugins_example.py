"""The example plugin package's own test suite (examples/kinograph-grain/tests) passes.

It runs in a separate pytest process, as a plugin author runs it: from the package's folder,
with the fixtures of ``kinograph.testing`` coming from the installed pytest plugin.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from plugin_venv import REPO

EXAMPLE = REPO / "examples" / "kinograph-grain"


def test_example_package_tests_pass() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINOGRAPH_")}
    env["KINOGRAPH_HOME"] = os.environ["KINOGRAPH_HOME"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    passed = re.search(r"(\d+) passed", done.stdout)
    assert passed and int(passed.group(1)) >= 15, done.stdout[-2000:]
    # Every kind of node the example promises has tests that ran.
    for module in ("test_film_grain", "test_palette", "test_sharpen", "test_migration", "test_demo_graph"):
        assert (EXAMPLE / "tests" / f"{module}.py").is_file()

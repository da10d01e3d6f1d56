"""``python -m kinograph.gui [GRAPH or OUTPUT FILE]``: the desktop editor as its own program.

``kinograph gui`` starts this module in place of itself, so the CLI never imports the editor.
"""

from __future__ import annotations

import sys

from kinograph.gui.app import run_editor

if __name__ == "__main__":
    sys.exit(run_editor(sys.argv[1] if len(sys.argv) > 1 else None))

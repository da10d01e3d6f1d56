"""Time to open a 200-node graph in the desktop editor, from start to the window shown and painted.

Budget (issue 4): under 2 s. Run: ``.venv/bin/python benchmarks/editor_open.py [NODES]``.
Prints the time split into window creation, opening (load + scene build) and first paint.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

BUDGET_S = 2.0


def make_graph_file(path: Path, count: int) -> None:
    """Half ``test.add`` nodes in a chain, half numbers feeding them: about one link per node."""
    from kinograph.host import Graph

    graph = Graph()
    previous = None
    for i in range(count // 2):
        number = graph.add_node("kinograph.value.number", f"n{i}", {"value": float(i)}, (i % 10 * 420.0, i // 10 * 260.0))
        add = graph.add_node("test.add", f"a{i}", {"offset": 1.0}, (i % 10 * 420.0 + 210, i // 10 * 260.0 + 40))
        graph.connect(f"{number.id}.value", f"{add.id}.a")
        if previous is not None:
            graph.connect(f"{previous}.sum", f"{add.id}.b")
        previous = add.id
    graph.save(path)


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    import nodes_for_tests

    from kinograph.host import Registry, reset_registry
    t0 = time.perf_counter()
    registry = Registry()
    registry.load_builtins()
    registry.register_plugin(nodes_for_tests, "tests")
    reset_registry(registry)
    t_registry = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.json"
        make_graph_file(path, count)
        from PySide6.QtWidgets import QApplication

        from kinograph.gui.app import application, extend
        from kinograph.gui.main_window import MainWindow

        t0 = time.perf_counter()
        app = application()
        window = MainWindow(registry)
        extend(window)  # run features, viewer, log: what `kinograph gui` opens with
        window.resize(1600, 1000)
        t_window = time.perf_counter() - t0
        t1 = time.perf_counter()
        assert window.open_file(path)
        t_open = time.perf_counter() - t1
        t2 = time.perf_counter()
        window.show()
        QApplication.processEvents()
        window.grab()  # force a full paint of every visible node and link
        t_paint = time.perf_counter() - t2
        total = time.perf_counter() - t0
        nodes, links = len(window.scene.node_items), len(window.scene.link_items)
        window.stack.setClean()
        window.close()
        del app
    print(f"editor open: {nodes} nodes, {links} links")
    print(f"  plugins loaded      {t_registry * 1000:7.1f} ms (not counted)")
    print(f"  window created      {t_window * 1000:7.1f} ms")
    print(f"  graph opened        {t_open * 1000:7.1f} ms (load, validate, build scene, fit)")
    print(f"  shown and painted   {t_paint * 1000:7.1f} ms")
    print(f"  total               {total * 1000:7.1f} ms = {total / BUDGET_S:.2f} x the {BUDGET_S:.0f} s budget")
    return 0 if total < BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())

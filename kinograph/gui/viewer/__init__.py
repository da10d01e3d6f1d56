"""The viewer dock: the selected node's output (image, features, motion, frames, files)."""

from kinograph.gui.viewer.panel import ViewerPanel

__all__ = ["ViewerPanel"]

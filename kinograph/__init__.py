"""kinograph: a plugin-based node graph for creative pipelines.

Import the public API from :mod:`kinograph.api`.
"""

__version__ = "0.1.0"

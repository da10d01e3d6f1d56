"""kinograph: a plugin-based node graph for creative pipelines.

Import the public API from :mod:`kinograph.api`.
"""

import logging

__version__ = "0.1.0"

# A library logs; the application (CLI, editor) decides where logs go.
logging.getLogger("kinograph").addHandler(logging.NullHandler())

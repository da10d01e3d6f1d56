"""kinograph-grain: an example kinograph plugin (film grain, palettes, sharpen, contact sheet).

Importing this package is cheap: numpy, torch and Pillow are imported by the nodes when they run.
"""

__version__ = "2.0.0"

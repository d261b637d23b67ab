"""helpers: the one package every lab imports (data, loader, models, training, metrics, plots).

Import what you use from its module, e.g. `from helpers.data import load`, so every name's
origin is visible. `python -m helpers -h` lists the command-line tools.
"""

__version__ = "0.1.0"

"""helpers: the one package every lab imports (data, loader, models, training, metrics, plots).

Import what you use from its module, e.g. `from helpers.data import load`, so every name's
origin is visible. The instructor and CI tools (running, verifying, grading notebooks) live in
`helpers.course`, which no lab imports; `python -m helpers -h` lists them.
"""

__version__ = "0.1.0"

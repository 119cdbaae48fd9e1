"""``python -m spectral_enhance.cli``: the console script, as when the CLI was one module."""

from . import entry

entry()

"""Restore low-bitrate MP3 music: rebuild the high band a codec removed, on a laptop CPU.

``from spectral_enhance import Enhancer; Enhancer.load().enhance(samples, sample_rate)``
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# ONNX Runtime (1.29 on) starts telemetry on import where the variable is unset: a device id
# and an event database under ~/.cache/Microsoft, a ".ses" file in TMPDIR, uploads to
# Microsoft. A tool that promises to fetch and send nothing turns it off before any import of
# it, in this process and the workers it starts; a user who sets the variable decides.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

__version__ = "0.1.0"
__all__ = ["Enhancer", "__version__"]

if TYPE_CHECKING:
    from .inference.enhancer import Enhancer


def __getattr__(name: str) -> Any:
    # Imported on first use, so the command line starts without loading numpy or ONNX Runtime.
    if name == "Enhancer":
        from .inference.enhancer import Enhancer

        return Enhancer
    raise AttributeError(f"module 'spectral_enhance' has no attribute {name!r}")


def __dir__() -> list[str]:
    # The lazy names too, so ``dir()`` and ``help(spectral_enhance)`` show `Enhancer`.
    return sorted({*globals(), *__all__})

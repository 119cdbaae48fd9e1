"""Restore low-bitrate MP3 music: rebuild the high band a codec removed, on a laptop CPU.

``from spectral_enhance import Enhancer; Enhancer.load().enhance(samples, sample_rate)``
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

"""Which FFT the STFT uses: SciPy's, NumPy's, or pyFFTW's (FFTW) or Intel MKL's when installed.

Times the forward and inverse real FFT of one full-band segment as the enhancer makes it (two
channels, about 600 frames of 2,048 float32 points: ``Enhancer.segment`` plus its margins at
hop 1,024), on one thread, as each segment runs. Prints the median of ``--repeats`` calls and
each library's time over SciPy's. pyFFTW is timed both through its SciPy-like interface (plans
cached) and as a planned ``FFTW`` object (``FFTW_MEASURE``), its fastest; it is not a
dependency: ``pip install pyfftw`` to include it. Nor is Intel's MKL, timed through
``mkl_fft``'s SciPy interface when installed (``pip install mkl_fft mkl-service``), nor
``ducc0`` (``pip install ducc0``). PyTorch's FFT (MKL inside its CPU wheel) is timed where
training's extra installed it; the enhancer does not import PyTorch (1.8 to 2.3 s on the Xeon of
model 207, and a dependency only training needs: docs/speed.md).
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy.fft
from harness import machine, median, print_machine, table, time_calls

from spectral_enhance.inference.enhancer import Enhancer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed calls (30)")
    args = parser.parse_args()
    enhancer = Enhancer.load("full-band", precision="int8")
    config = enhancer.stft
    samples = enhancer.segment + 2 * enhancer.margin
    frames = 1 + samples // config.hop_length
    shape = (2, frames, config.fft_length)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    spec = scipy.fft.rfft(x, axis=-1)

    calls = {
        "scipy.fft": (
            lambda: scipy.fft.rfft(x, axis=-1, workers=1),
            lambda: scipy.fft.irfft(spec, axis=-1, workers=1),
        ),
        "numpy.fft": (lambda: np.fft.rfft(x, axis=-1), lambda: np.fft.irfft(spec, axis=-1)),
    }
    try:
        import pyfftw
        import pyfftw.interfaces.scipy_fft as fftw_scipy
    except ImportError:
        pyfftw = None
    if pyfftw is not None:
        pyfftw.interfaces.cache.enable()
        calls[f"pyfftw {pyfftw.__version__} (interface)"] = (
            lambda: fftw_scipy.rfft(x, axis=-1, workers=1),
            lambda: fftw_scipy.irfft(spec, axis=-1, workers=1),
        )
        real = pyfftw.empty_aligned(shape, dtype="float32")
        half = pyfftw.empty_aligned((*shape[:-1], shape[-1] // 2 + 1), dtype="complex64")
        flags = ("FFTW_MEASURE",)
        forward = pyfftw.FFTW(real, half, axes=(-1,), flags=flags, threads=1)
        backward = pyfftw.FFTW(
            half, real, axes=(-1,), direction="FFTW_BACKWARD", flags=flags, threads=1
        )
        real[:], half[:] = x, spec
        calls[f"pyfftw {pyfftw.__version__} (planned)"] = (forward, backward)

    try:
        import mkl_fft
        import mkl_fft.interfaces.scipy_fft as mkl_scipy
    except ImportError:
        mkl_fft = None
    if mkl_fft is not None:
        calls[f"mkl_fft {mkl_fft.__version__} (interface)"] = (
            lambda: mkl_scipy.rfft(x, axis=-1, workers=1),
            lambda: mkl_scipy.irfft(spec, axis=-1, workers=1),
        )

    try:
        import ducc0
    except ImportError:
        ducc0 = None
    if ducc0 is not None:  # pocketfft's successor, by its author
        n = shape[-1]
        calls[f"ducc0 {ducc0.__version__}"] = (
            lambda: ducc0.fft.r2c(x, axes=(-1,), nthreads=1),
            lambda: ducc0.fft.c2r(spec, axes=(-1,), lastsize=n, forward=False, inorm=2),
        )

    try:
        import torch
    except ImportError:  # training's extra, not the enhancer's
        torch = None
    if torch is not None:  # Intel's MKL inside PyTorch's CPU wheel
        torch.set_num_threads(1)
        tx, tspec = torch.from_numpy(x), torch.from_numpy(spec)
        calls[f"torch.fft {torch.__version__}"] = (
            lambda: torch.fft.rfft(tx, dim=-1),
            lambda: torch.fft.irfft(tspec, n=shape[-1], dim=-1),
        )

    rows, base = [], None
    for name, (rfft, irfft) in calls.items():
        ms = [1e3 * median(time_calls(call, args.repeats, warmup=3)) for call in (rfft, irfft)]
        base = base or ms
        rows.append([name, f"{ms[0]:.2f}", f"{ms[0] / base[0]:.2f}", f"{ms[1]:.2f}"])
        rows[-1].append(f"{ms[1] / base[1]:.2f}")
    print_machine(machine())
    print(f"\nreal FFTs of {shape[0]} x {shape[1]} frames of {shape[2]} float32 points, one")
    print(f"thread, median of {args.repeats}")
    print(table(["library", "forward ms", "vs scipy", "inverse ms", "vs scipy"], rows))


if __name__ == "__main__":
    main()

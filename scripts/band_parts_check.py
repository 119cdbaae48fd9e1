"""What the band rebuilt above the cut and the holes filled under it each add, from files.

On a split's reference clips (the windows ``evaluate --limit`` takes), each made into an MP3 by
``--modes`` (`vbr_check.encode`: Debian's ``lame`` or FFmpeg), enhanced from the file as
``enhance`` does, and split into its parts: the model's change (the output less the input at the
output's rate, ``--strength 0``) low-passed at the file's cut by a 16th-order Butterworth run
forward and back (the holes under the cut) and the rest (the band above it). Each is scored
with Zimtohrli against the reference, aligned by cross-correlation: the input as FFmpeg decodes
it, the output as it is, the input with the holes and the band at each of ``--gains`` (an
amplitude: 0.5 is the band 6 dB fainter), and the input with the band alone. Prints per mode
the means and each one's worst clip against the input.

Usage: python scripts/band_parts_check.py DATASET [--split val] [--limit 80]
           [--modes lame:-b,128 lame:-b,96] [--gains 0 0.5 0.71 1]
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import scipy.signal
import soundfile as sf
import vbr_check
from validation_check import check_parser
from vbr_check import aligned, as_wav, ffmpeg_decode_at

from spectral_enhance.dataset.manifest import read_manifest
from spectral_enhance.evaluation.evaluate import reference_rows, spread_sample
from spectral_enhance.evaluation.metrics import zimtohrli_mos
from spectral_enhance.inference.enhancer import Enhancer
from spectral_enhance.inference.one_file import enhance_file


def parts(
    enhancer: Enhancer, path: Path, rate: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``path`` enhanced at ``rate``: the input at that rate, the output, and the model's change
    split at the file's cut into the holes under it and the band above (None, None: no cut)."""
    out, dry = path.with_name("out.wav"), path.with_name("dry.wav")
    for file in (out, dry):
        file.unlink(missing_ok=True)
    result = enhance_file(enhancer, path, out, output_rate=rate)
    enhance_file(enhancer, path, dry, output_rate=rate, strength=0.0)
    y = sf.read(out, dtype="float32", always_2d=True)[0]
    x = sf.read(dry, dtype="float32", always_2d=True)[0]
    if not result.lowpass_hz:
        return x, y, None, None
    change = y - x
    sos = scipy.signal.butter(16, result.lowpass_hz, fs=rate, output="sos")
    holes = scipy.signal.sosfiltfilt(sos, change, axis=0).astype(np.float32)
    return x, y, holes, change - holes


def main() -> None:
    parser = check_parser(__doc__, limit=80, out=False)
    parser.add_argument("--modes", nargs="+", default=["lame:-b,128", "lame:-b,96"])
    parser.add_argument("--gains", nargs="+", type=float, default=[0.0, 0.5, 0.71, 1.0])
    args = parser.parse_args()
    enhancer = Enhancer.load(args.model)
    references = reference_rows(spread_sample(read_manifest(args.dataset, args.split), args.limit))
    rows: dict[str, list[list[float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for row in references:
            high, rate, wav = as_wav(row, tmp)
            for mode in args.modes:
                path = vbr_check.encode(wav, tmp, mode)
                low = aligned(ffmpeg_decode_at(path, rate, high.shape[1]), high)
                x, y, holes, band = parts(enhancer, path, rate)
                signals = [y]
                if holes is not None and band is not None:
                    signals += [x + holes + g * band for g in args.gains] + [x + band]
                scores = [zimtohrli_mos(high, low, rate)]
                scores += [zimtohrli_mos(high, aligned(s, high), rate) for s in signals]
                scores += [scores[1]] * (len(args.gains) + 3 - len(scores))
                rows.setdefault(mode, []).append(scores)
                print(f"{row['clip']} {mode}: " + " ".join(f"{s:.3f}" for s in scores), flush=True)
    gains = "  ".join(f"band x {g:<4g} (worst)" for g in args.gains)
    print(
        f"\n{len(references)} references of {args.split}, Zimtohrli: the input as FFmpeg decodes "
        "it, the output, the input with the holes and the band at each gain, and with the band "
        "alone; the worst clip's change against the input"
    )
    print(f"{'mode':<14}  input  output  {gains}  band alone")
    for mode, values in rows.items():
        a = np.array(values)
        line = f"{mode:<14}  {a[:, 0].mean():.3f}  {a[:, 1].mean():.3f} "
        for k in range(2, a.shape[1]):
            line += f"  {a[:, k].mean():.3f} ({(a[:, k] - a[:, 0]).min():+.3f})"
        print(line)


if __name__ == "__main__":
    main()

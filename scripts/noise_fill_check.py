"""The full-band model's predicted envelope over noise instead of over its copy (a next step).

For the validation clips at the chosen bitrates, the model's gain (from its own inputs, the
copy among them) is applied once to the copy, as the model does, and once to white noise
analysed by the same STFT and scaled per 8-bin band and frame to the copy's power, so both get
the same level; Zimtohrli per bitrate, beside the decoded input. `scripts/phase_source.py`
compares the two at the reference's own envelope.

Usage: python scripts/noise_fill_check.py DATASET CHECKPOINT [--split val] [--limit 100]
           [--bitrates 32 48 64]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from spectral_enhance.dataset.manifest import clip_cutoff_hz, read_clip, read_manifest, read_recipe
from spectral_enhance.dsp.model_inputs import copy_inputs
from spectral_enhance.dsp.stft import istft, stft
from spectral_enhance.evaluation.evaluate import machine_name, spread_sample
from spectral_enhance.evaluation.metrics import zimtohrli_mos
from spectral_enhance.models import build_model
from spectral_enhance.models.checkpoint import load_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("checkpoint", help="a full-band model's .pt (envelope=true)")
    parser.add_argument("--split", default="val")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--bitrates", nargs="+", default=["32", "48", "64"])
    args = parser.parse_args()
    rows = spread_sample(read_manifest(args.dataset, args.split), args.limit)
    rows = [row for row in rows if row["low_bitrate"] in args.bitrates]
    recipe = read_recipe(args.dataset)
    state = load_checkpoint(args.checkpoint)
    model = build_model(state["arch"], state["model_config"])
    model.load_state_dict(state["state_dict"])
    model.eval()
    config = model.stft
    scores: dict[tuple[str, str], list[float]] = {}
    for row in rows:
        low, high = read_clip(row, "low"), read_clip(row, "high")
        rate, cut = int(row["sample_rate"]), clip_cutoff_hz(row, recipe)
        channels = range(low.shape[1])
        spec = torch.from_numpy(np.stack([stft(low[:, c], config) for c in channels]))
        spec, copy, above = copy_inputs(spec, cut * config.fft_length / rate)
        rng = np.random.default_rng(0)
        noise = np.stack([stft(rng.standard_normal(len(low)), config) for _ in channels])
        noise = torch.from_numpy(noise.astype(np.float32)) * above
        with torch.no_grad():
            gain = model.gain(*model.band_powers(spec, copy), above)[:, None]
            power_copy = model.pool((copy * copy).sum(dim=1))
            power_noise = model.pool((noise * noise).sum(dim=1))
            noise = noise * model.spread(torch.sqrt(power_copy / (power_noise + 1e-12)))[:, None]
        outputs = {"mp3": low}
        for name, fill in (("copy", copy), ("noise", noise)):
            out = (spec + fill * gain).numpy()
            outputs[name] = np.stack([istft(out[c], len(low), config) for c in channels], axis=1)
        for name, out in outputs.items():
            scores.setdefault((row["low_bitrate"], name), []).append(zimtohrli_mos(high, out, rate))
    print(f"Zimtohrli, {args.split} split, {machine_name()}: the model's envelope over")
    print("| kbps | clips | decoded input | its copy | noise |")
    print("|---|---|---|---|---|")
    for bitrate in args.bitrates:
        means = [np.mean(scores.get((bitrate, n), [np.nan])) for n in ("mp3", "copy", "noise")]
        count = len(scores.get((bitrate, "mp3"), []))
        print(f"| {bitrate} | {count} | " + " | ".join(f"{m:.3f}" for m in means) + " |")


if __name__ == "__main__":
    main()

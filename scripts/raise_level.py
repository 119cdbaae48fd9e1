"""A full-band checkpoint with its predicted band raised by some dB, to hear whether louder is
better (docs/full-band.md, "The band's level" and the noise fill's levels).

The envelope model predicts each band's log power from its ``level`` parameter up, so adding
``dB / 10 * ln 10`` to it raises every predicted band by ``dB``; nothing else changes.

Usage: python scripts/raise_level.py CHECKPOINT DB OUT   (e.g. runs/env5/best.pt 2 runs/plus2.pt)
"""

from __future__ import annotations

import argparse
import math

from spectral_enhance.models.checkpoint import load_checkpoint, save_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("db", type=float)
    parser.add_argument("out")
    args = parser.parse_args()
    state = load_checkpoint(args.checkpoint)
    if not state["model_config"].get("envelope"):
        raise SystemExit(f"{args.checkpoint}: not an envelope model (--model-option envelope=true)")
    state["state_dict"]["level"] = state["state_dict"]["level"] + args.db / 10 * math.log(10)
    save_checkpoint(args.out, state)
    print(f"wrote {args.out}: its band {args.db:+g} dB")


if __name__ == "__main__":
    main()

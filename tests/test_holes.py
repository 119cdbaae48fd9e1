"""The codec's holes under the low-pass (`dsp.holes`): which bands are filled, and how loud."""

from __future__ import annotations

import numpy as np
import pytest

from spectral_enhance.dsp.holes import DEPTH_DB, UNDER_DB, hole_frames, hole_scale

BINS, FRAMES, CUT, BAND = 512, 80, 400.0, 8
FRAMES_JUDGED = hole_frames(44_100, 1024)


def steady() -> np.ndarray:
    """A flat power of 1 per bin under the cut, nothing above: ``[1, frames, bins]``."""
    power = np.zeros((1, FRAMES, BINS), np.float32)
    power[..., : int(CUT)] = 1.0
    return power


def holes(power: np.ndarray) -> tuple[np.ndarray, int]:
    """`hole_scale` of a spectrum of this power per bin."""
    return hole_scale(power, CUT, BAND, FRAMES_JUDGED)


def test_a_hole_in_the_octave_under_the_cut_is_filled_to_under_its_neighbours():
    power = steady()
    power[:, 30:36, 320:344] = 0.0  # three bands emptied for six frames, as a codec does
    scale, first = holes(power)
    assert first == 200 // BAND  # from the octave under the cut
    assert scale.shape == (1, FRAMES, int(CUT) // BAND - first)
    filled = np.argwhere(scale[0] > 0)
    assert set(filled[:, 0]) == set(range(30, 36))
    assert {first + band for band in filled[:, 1]} == {40, 41, 42}
    # the neighbours hold a power of 1 per bin; over noise of 1 per bin, UNDER_DB under them
    assert np.allclose(scale[0][scale[0] > 0], 10 ** (-UNDER_DB / 20), rtol=1e-4)


def test_a_shallow_dip_is_no_hole():
    power = steady()
    power[:, 30:36, 320:344] = 10 ** (-(DEPTH_DB + UNDER_DB - 3) / 10)  # 3 dB short of one
    assert not holes(power)[0].any()


def test_a_natural_decay_is_no_hole():
    """Every band falling together (a note dying away, a fade to silence): its neighbours fall
    with it, so nothing is filled, though each band ends far under its own loudest."""
    power = steady()
    power *= (10 ** (-np.arange(FRAMES) / 2.0))[None, :, None].astype(np.float32)  # 5 dB/frame
    assert not holes(power)[0].any()


def test_holes_lower_than_the_octave_under_the_cut_are_left():
    """Down there a gap between a note's partials looks the same as a codec's hole."""
    power = steady()
    power[:, 30:36, 96:120] = 0.0
    assert not holes(power)[0].any()


@pytest.mark.parametrize(("rate", "hop", "frames"), [(44_100, 1024, 23), (44_100, 512, 45)])
def test_a_band_is_judged_over_half_a_second(rate, hop, frames):
    assert hole_frames(rate, hop) == frames

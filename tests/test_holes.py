"""The codec's holes under the low-pass (`dsp.holes` and its fitted net): which bands are
filled, and how loud."""

from __future__ import annotations

import numpy as np
import pytest

from spectral_enhance.dsp.holes import (
    THRESHOLD_DB,
    HoleGeometry,
    HoleNet,
    hole_frames,
    hole_scale,
)
from spectral_enhance.inference.bundled import PRETRAINED

BINS, FRAMES, CUT, BAND = 512, 80, 400.0, 8
FRAMES_JUDGED = hole_frames(44_100, 1024)
NET = HoleNet.load(PRETRAINED / "full-band" / "holes.onnx")  # the bundled model's


def steady() -> np.ndarray:
    """A flat power of 1 per bin under the cut, nothing above: ``[1, frames, bins]``."""
    power = np.zeros((1, FRAMES, BINS), np.float32)
    power[..., : int(CUT)] = 1.0
    return power


def holes(power: np.ndarray) -> tuple[np.ndarray, int]:
    """`hole_scale` of a spectrum of this power per bin."""
    return hole_scale(power, CUT, BAND, FRAMES_JUDGED, NET)


def filled_db(scale: np.ndarray) -> np.ndarray:
    """The filled bands' level in dB over the neighbours' power of 1 per bin."""
    return 20 * np.log10(scale[scale > 0])


def test_a_hole_in_the_octave_under_the_cut_is_filled_near_its_neighbours_level():
    power = steady()
    power[:, 30:36, 320:344] = 0.0  # three bands emptied for six frames, as a codec does
    scale, first = holes(power)
    assert first == 200 // BAND  # from the octave under the cut
    assert scale.shape == (1, FRAMES, int(CUT) // BAND - first)
    filled = np.argwhere(scale[0] > 0)
    assert set(filled[:, 0]) == set(range(30, 36))
    assert {first + band for band in filled[:, 1]} == {40, 41, 42}
    # over noise of 1 per bin, a little under the neighbours (what the reference held there)
    assert np.all((filled_db(scale) > -12) & (filled_db(scale) < 0))


def test_a_deep_dip_is_filled_up_and_a_shallow_one_left():
    power = steady()
    power[:, 30:36, 320:344] = 10 ** (-15 / 10)
    scale, _ = holes(power)
    assert np.count_nonzero(scale) == 18 and np.all(filled_db(scale) > -12)
    power[:, 30:36, 320:344] = 10 ** (-THRESHOLD_DB / 10)  # no more under than the threshold
    assert not holes(power)[0].any()


def test_under_a_32_kbps_low_pass_a_shallower_hole_is_filled():
    """`threshold_db`: under a low-pass below `dsp.band_level.LOW_CUT_HZ` a band the net puts 4 dB
    over the MP3's is filled, over it only one it puts 6 dB over."""
    from spectral_enhance.dsp.band_level import LOW_CUT_HZ
    from spectral_enhance.dsp.holes import LOW_CUT_THRESHOLD_DB, threshold_db

    assert threshold_db(5500.0) == LOW_CUT_THRESHOLD_DB == 4.0
    assert threshold_db(LOW_CUT_HZ) == threshold_db(7600.0) == THRESHOLD_DB == 6.0
    filled = {}
    for cut in (256.0, 400.0):  # 5.5 and 8.6 kHz
        power = np.zeros((1, FRAMES, BINS), np.float32)
        power[..., : int(cut)] = 1.0
        low = int(cut * 0.8) // BAND * BAND
        power[:, 30:36, low : low + 3 * BAND] = 10 ** (-12 / 10)  # a dip of 12 dB
        filled[cut] = np.count_nonzero(hole_scale(power, cut, BAND, FRAMES_JUDGED, NET)[0])
    assert filled == {256.0: 18, 400.0: 0}


def test_a_hole_empty_in_one_channel_only_is_filled_there():
    power = np.concatenate([steady(), steady()])
    power[0, 30:36, 320:344] = 0.0
    scale, _ = holes(power)
    assert np.count_nonzero(scale[0]) == 18 and not scale[1].any()


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


def test_a_net_is_written_and_read_back_and_refuses_another_stft(tmp_path):
    """`HoleNet.write` makes the graph `HoleNet.load` runs: the perceptron of its layers."""
    rng = np.random.default_rng(0)
    layers = [
        (rng.standard_normal((4, 11)), rng.standard_normal(4)),
        (rng.standard_normal((1, 4)), rng.standard_normal(1)),
    ]
    geometry = HoleGeometry(48_000, 2048, 512, 8)
    HoleNet.write(tmp_path / "net.onnx", layers, geometry)
    net = HoleNet.load(tmp_path / "net.onnx")
    features = rng.standard_normal((11, 3, 5)).astype(np.float32)
    hidden = np.maximum(np.einsum("oi,i...->o...", layers[0][0], features).T + layers[0][1], 0)
    expected = (hidden @ layers[1][0].T + layers[1][1])[..., 0].T * 10
    np.testing.assert_allclose(net(features), expected, rtol=1e-4, atol=1e-4)
    net.check(geometry)
    with pytest.raises(ValueError, match="fitted at 48000 Hz, FFT 2048, hop 512, 8-bin bands; "):
        net.check(HoleGeometry(44_100, 2048, 1024, 8))


def test_the_bundled_full_band_model_fills_holes_with_the_net_in_its_folder():
    from spectral_enhance.inference.enhancer import Enhancer

    enhancer = Enhancer.load("full-band")
    net, stft = enhancer.hole_net, enhancer.stft
    assert enhancer.rule.holes_frames and net is not None
    assert net.geometry == HoleGeometry.of(
        enhancer.sample_rate, stft, enhancer.rule.noise_band_bins
    )


def test_a_hole_net_that_is_missing_or_no_net_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"gone.onnx: hole net missing"):
        HoleNet.load(tmp_path / "gone.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a graph")
    with pytest.raises(ValueError, match=r"junk.onnx: not a hole net"):
        HoleNet.load(tmp_path / "junk.onnx")


@pytest.mark.parametrize(("rate", "hop", "frames"), [(44_100, 1024, 23), (44_100, 512, 45)])
def test_a_band_is_judged_over_half_a_second(rate, hop, frames):
    assert hole_frames(rate, hop) == frames


@pytest.mark.parametrize(("size", "axis"), [(23, -2), (9, -2), (3, -2), (7, -1), (3, -1), (1, -1)])
def test_the_running_loudest_is_scipys_maximum_filter_to_the_bit(size, axis):
    from scipy.ndimage import maximum_filter1d

    from spectral_enhance.dsp.holes import _running_max

    level = np.random.default_rng(size).standard_normal((2, 40, 13)).astype(np.float32)
    expected = maximum_filter1d(level, size, axis=axis, mode="nearest")
    np.testing.assert_array_equal(_running_max(level, size, axis), expected)


def test_a_cut_too_low_for_a_whole_band_in_its_octave_fills_nothing():
    scale, first = hole_scale(np.ones((2, 5, BINS), np.float32), 10.0, BAND, FRAMES_JUDGED, NET)
    assert scale.shape == (2, 5, 0) and first == 1


def test_holes_are_filled_under_a_16_khz_cut_where_the_band_above_is_already_laid_fainter():
    """`lame --lowpass -1` at 96 kbps, short of bits with no filter, reads a cut of 15.6 to
    16 kHz: its band above is laid fainter (`band_share`), as over LAME's 128 kbps cut, but its
    holes are filled; from 16 kHz, where LAME's 128 kbps cuts read, none are."""
    from spectral_enhance.dsp.band_level import HIGH_CUT_SHARE, band_share
    from spectral_enhance.inference.enhancer import Enhancer

    enhancer = Enhancer.load("full-band")
    assert band_share(15_800.0) == HIGH_CUT_SHARE < 1.0
    assert enhancer.mended_band(15_800.0) == (7_900.0, 15_800.0)
    assert enhancer.mended_band(15_270.0) == (7_635.0, 15_270.0)  # LAME's at 112 kbps
    assert enhancer.mended_band(16_000.0) is None
    assert enhancer.mended_band(16_620.0) is None  # LAME's at 128 kbps

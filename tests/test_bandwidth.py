"""The full-band model (issue 12): its copy rule, what it keeps, its phase source, training,
export and the `dsp` system it shares the copy rule with."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import soundfile as sf
import torch

from spectral_enhance.dsp.copy_rule import PATCH_MULTIPLE, copy_map
from spectral_enhance.dsp.holes import HoleGeometry, HoleNet
from spectral_enhance.dsp.model_inputs import copy_inputs
from spectral_enhance.dsp.replication import band_replication
from spectral_enhance.dsp.stft import StftConfig, istft, stft
from spectral_enhance.dsp.tilt import tilt_envelope
from spectral_enhance.inference.bundled import PRETRAINED
from spectral_enhance.models import BandConfig, BandExtender, build_model

RATE = 44100
BUNDLED_HOLE_NET = PRETRAINED / "full-band" / "holes.onnx"  # fitted at 44.1 kHz, hop 1,024


@pytest.mark.parametrize("cutoff", [10.0, 255.3, 353.0, 505.9, 760.0, 1000.0])
def test_the_copy_map_moves_whole_patches_from_just_below_the_cutoff(cutoff):
    bins = 1025
    source, above = copy_map(cutoff, bins)
    start = int(np.ceil(cutoff))
    assert np.array_equal(above, (np.arange(bins) >= start).astype(np.float32))
    assert np.array_equal(source[:start], np.arange(start))  # below: its own bin
    moved = np.arange(start, bins) - source[start:]
    assert np.all(moved > 0) and np.all(moved % PATCH_MULTIPLE == 0)  # phase stays whole
    assert np.all(source[start:] < start) and np.all(source[start:] >= start // 2 - 1)


def _model(seed: int = 0) -> BandExtender:
    torch.manual_seed(seed)
    model = BandExtender(BandConfig(latent=16))
    with torch.no_grad():  # a model that has learned something: a non-zero last layer
        for block in model.blocks:
            block.from_latent.pointwise.weight.normal_(0, 0.05)
    return model.eval()


def _enhance(model: BandExtender, x: np.ndarray, cutoff_hz: float | None) -> np.ndarray:
    spec = torch.from_numpy(stft(x, model.stft))[None]
    if cutoff_hz is None:
        return x
    with torch.no_grad():
        out = model(*copy_inputs(spec, cutoff_hz * model.stft.fft_length / RATE))
    return istft(out[0].numpy(), len(x), model.stft)


def test_below_the_cutoff_the_input_passes_unchanged():
    model = _model()
    x = np.random.default_rng(0).standard_normal(RATE).astype(np.float32) * 0.1
    spec = torch.from_numpy(stft(x, model.stft))[None]
    with torch.no_grad():
        out = model(*copy_inputs(spec, 300.0))
    assert torch.equal(out[..., :300], spec[..., :300])
    assert float((out[..., 300:] - spec[..., 300:]).abs().max()) > 0  # and above it, adds


def test_a_copied_partial_stays_one_clean_partial():
    """The phase source: a tone under the cutoff gives, above it, tones of steady level at
    the frequencies its patches move it to, not a smear of the bins around them."""
    model = _model()
    t = np.arange(2 * RATE) / RATE
    bin_hz = RATE / model.stft.fft_length
    tone_bin = 240.0
    x = (0.3 * np.sin(2 * np.pi * tone_bin * bin_hz * t)).astype(np.float32)
    cutoff_bin = 256.0
    out = _enhance(model, x, cutoff_bin * bin_hz)
    change = (out - x)[RATE // 4 : -RATE // 4]
    source, above = copy_map(cutoff_bin, model.stft.bins)
    targets = np.nonzero((source == round(tone_bin)) & (above > 0))[0]
    spectrum = np.abs(np.fft.rfft(change * np.hanning(len(change)))) ** 2
    freqs = np.fft.rfftfreq(len(change), 1 / RATE)
    near = np.zeros(len(freqs), bool)
    for target in targets:
        near |= np.abs(freqs - target * bin_hz) < 3 * bin_hz
    assert spectrum[near].sum() > 0.99 * spectrum.sum()


def test_no_cutoff_means_no_change_and_the_stereo_channels_are_treated_alike():
    model = _model()
    x = np.random.default_rng(1).standard_normal(RATE).astype(np.float32) * 0.1
    both = np.stack([x, x])  # a centred source: both channels get the same band
    spec = torch.from_numpy(stft(both, model.stft))
    with torch.no_grad():
        out = model(*copy_inputs(spec, 400.0))
    assert torch.equal(out[0], out[1])
    assert np.array_equal(_enhance(model, x, None), x)


def test_the_model_says_how_it_runs_like_every_model():
    for arch, extra in (("band", {}), ("spectral", {}), ("wavenet", {})):
        model = build_model(arch, extra)
        assert model.domain in ("spectrum", "waveform")
        assert isinstance(model.reach, int) and model.reach > 0
        assert model.length_multiple >= 1
        assert model.takes_lowpass is (arch == "band")
        assert (model.stft is None) is (model.domain == "waveform")
    band = build_model("band", {"hop_length": 1024})
    assert band.stft.hop_length == 1024 and band.stft.bins == 1025
    with pytest.raises(ValueError, match="must divide"):
        BandConfig(hop_length=700)
    with pytest.raises(ValueError, match="odd and positive"):
        BandConfig(kernel_size=4)


def test_dsp_fills_the_whole_band_above_a_low_cutoff_at_44_1_khz():
    from conftest import music
    from spectral_enhance.dsp.replication import brick_wall_split

    x = music(3.0, RATE)
    low, _ = brick_wall_split(x, RATE, 5500.0)
    out = band_replication(low, RATE, 5500.0, config=_model().stft)
    spectrum = np.abs(np.fft.rfft(out)) ** 2
    freqs = np.fft.rfftfreq(len(out), 1 / RATE)
    below = spectrum[(freqs > 4500) & (freqs < 5400)].mean()
    for lo, hi in ((6000, 9000), (9000, 14000), (14000, 20000)):
        band = spectrum[(freqs > lo) & (freqs < hi)].mean()
        assert below * 1e-4 < band < below, (lo, hi)  # filled, and falling
    added = np.abs(np.fft.rfft(out - low)) ** 2
    assert added[freqs < 5000].sum() < 1e-3 * added.sum()  # what it adds is above the cutoff


def _lowpassed(seconds: float, cutoff_hz: float, channels: int = 2) -> np.ndarray:
    from conftest import music
    from spectral_enhance.dsp.replication import brick_wall_split

    return brick_wall_split(music(seconds, RATE, channels=channels), RATE, cutoff_hz)[0]


def test_the_api_measures_the_low_pass_and_rebuilds_above_it_only(band_model):
    from spectral_enhance.dsp.lowpass import find_lowpass
    from spectral_enhance.inference.enhancer import Enhancer

    enhancer = Enhancer.load(band_model, precision="fp32")
    x = _lowpassed(3.0, 7600.0)
    assert abs(find_lowpass(x, RATE) - 7600.0) < 200.0
    y, rate = enhancer.enhance(x, RATE)
    assert rate == RATE and y.shape == x.shape
    change = np.abs(np.fft.rfft(y - x, axis=0)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    assert change[freqs < 7000].sum() < 1e-3 * change.sum()  # below the cut: the input
    assert change[freqs > 15000].sum() > 0.01 * change.sum()  # the band up to the top
    told, _ = enhancer.enhance(x, RATE, lowpass_hz=7600.0)
    level = [10 * np.log10(np.mean((out - x) ** 2)) for out in (y, told)]
    assert abs(level[0] - level[1]) < 1.0  # measured or told, nearly the same band


def test_strength_mixes_the_change_in_monotonically_and_zero_gives_the_input(band_model):
    from spectral_enhance.inference.enhancer import Enhancer

    enhancer = Enhancer.load(band_model, precision="fp32")
    x = _lowpassed(2.0, 5500.0)
    distances = []
    for strength in (0.0, 0.25, 0.5, 1.0):
        y, _ = enhancer.enhance(x, RATE, strength=strength)
        distances.append(float(np.sqrt(np.mean((y - x) ** 2))))
    assert distances[0] == 0.0 and np.array_equal(enhancer.enhance(x, RATE, strength=0)[0], x)
    assert all(a < b for a, b in itertools.pairwise(distances))
    with pytest.raises(ValueError, match=r"strength must be a number from 0 to 1, not 1\.5"):
        enhancer.enhance(x, RATE, strength=1.5)


def test_a_lossless_input_comes_back_unchanged(band_model):
    """No low-pass in it, nothing to rebuild: at least 35 dB SNR (here, exactly the input)."""
    from conftest import music
    from spectral_enhance.inference.enhancer import Enhancer

    x = music(2.0, RATE, channels=2)
    y, _ = Enhancer.load(band_model).enhance(x, RATE)
    assert np.array_equal(y, x)


def test_a_panned_source_keeps_its_place_and_balance(band_model):
    """Stereo: a source panned 70/30 comes out with the same level ratio in the rebuilt band
    as below it, and the channels' rebuilt bands stay as correlated as their sources."""
    from spectral_enhance.dsp.replication import brick_wall_split
    from spectral_enhance.inference.enhancer import Enhancer

    mono = _lowpassed(3.0, 6000.0, channels=1)
    x = np.stack([0.7 * mono, 0.3 * mono], axis=1)
    y, _ = Enhancer.load(band_model, precision="fp32").enhance(x, RATE, lowpass_hz=6000.0)
    band = brick_wall_split(y - x, RATE, 6500.0)[1]
    left, right = np.sqrt(np.mean(band**2, axis=0))
    assert left > 0 and abs(20 * np.log10(left / right) - 20 * np.log10(0.7 / 0.3)) < 0.1
    assert np.corrcoef(band[:, 0], band[:, 1])[0, 1] > 0.999


def test_dsp_continues_the_level_at_the_cutoff_where_the_naive_floor_does_not():
    """The naive floor keeps the copy at its source's level; `dsp` starts it at the level just
    under the cutoff, so on a spectrum falling with frequency it is closer to the truth."""
    from conftest import music
    from spectral_enhance.dsp.replication import brick_wall_split

    x = music(3.0, RATE)
    low = brick_wall_split(x, RATE, 5500.0)[0]
    naive = band_replication(low, RATE, 5500.0, "naive")
    dsp = band_replication(low, RATE, 5500.0)
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    band = (freqs > 5600) & (freqs < 9000)

    def level(y: np.ndarray) -> float:
        return 10 * np.log10(np.mean(np.abs(np.fft.rfft(y)[band]) ** 2))

    assert abs(level(dsp) - level(x)) < abs(level(naive) - level(x))


def test_dsp_continues_the_spectrums_own_slope_above_the_cutoff():
    """On noise falling 3 dB an octave, cut at 5.5 kHz, `dsp` (the tilt rule) rebuilds the band
    falling as the noise does, ``TILT.offset_db`` under it; ``dsp-edge``'s fixed 12 dB an octave
    falls far too fast."""
    from spectral_enhance.dsp.replication import brick_wall_split
    from spectral_enhance.dsp.tilt import TILT

    rng = np.random.default_rng(3)
    freqs = np.fft.rfftfreq(4 * RATE, 1 / RATE)
    amplitude = np.maximum(freqs, 20.0) ** (-3 / (20 * np.log10(2)))  # -3 dB an octave in power
    spectrum = amplitude * np.exp(2j * np.pi * rng.random(len(freqs)))
    x = np.fft.irfft(spectrum, 4 * RATE).astype(np.float32)
    x *= 0.3 / np.abs(x).max()
    low = brick_wall_split(x, RATE, 5500.0)[0]

    def level(y: np.ndarray, lo: float, hi: float) -> float:
        band = (freqs > lo) & (freqs < hi)
        return 10 * np.log10(np.mean(np.abs(np.fft.rfft(y)[band]) ** 2))

    tilt, edge = band_replication(low, RATE, 5500.0), band_replication(low, RATE, 5500.0, "edge")
    for lo, hi in ((7000, 9000), (14000, 18000)):
        assert abs(level(tilt, lo, hi) - level(x, lo, hi) - TILT.offset_db) < 1.5, (lo, hi)
    true_fall = level(x, 7000, 9000) - level(x, 14000, 18000)
    assert abs(level(tilt, 7000, 9000) - level(tilt, 14000, 18000) - true_fall) < 1.0
    assert level(edge, 7000, 9000) - level(edge, 14000, 18000) > true_fall + 6.0
    with pytest.raises(ValueError, match="rule must be one of"):
        band_replication(low, RATE, 5500.0, "loud")


def test_an_untrained_tilt_prior_model_sets_the_dsp_level_and_segments_leave_no_trace(tmp_path):
    """With ``tilt_prior`` the network starts from `dsp`'s envelope: built, it rebuilds the band
    at the tilt rule's level; it exports (parity is checked there), and its longer reach (the
    slope's smoothing) is in its margin, so short segments give what one long one does."""
    from spectral_enhance.dsp.stft import StftConfig
    from spectral_enhance.inference.enhancer import Enhancer
    from spectral_enhance.training.export import export
    from tiny import tiny_band_checkpoint

    options = {"envelope": True, "tilt_prior": True, "hop_length": 1024}
    checkpoint = tiny_band_checkpoint(tmp_path / "prior.pt", options=options, untrained=True)
    card = export(checkpoint, tmp_path / "prior", precisions=("fp32",))
    assert card["context_frames"] == 4 + 8  # one block of 5 x 5, and half the 17-frame slope
    # the rule is computed outside the graph (`band_prior`, as `dsp` computes it) and given it
    assert (card["prior_frames"], card["prior_band_bins"]) == (17, 8)
    x = _lowpassed(8.0, 5500.0, channels=1)
    whole = Enhancer.load(tmp_path / "prior", precision="fp32")
    assert whole.model.input_names == ["spectrum", "copy", "above", "prior"]
    y, _ = whole.enhance(x, RATE, lowpass_hz=5500.0)
    dsp = band_replication(x, RATE, 5500.0, config=StftConfig(2048, 1024, 2048))
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)

    def level(z: np.ndarray, lo: float, hi: float) -> float:
        band = (freqs > lo) & (freqs < hi)
        return 10 * np.log10(np.mean(np.abs(np.fft.rfft(z.reshape(len(z), -1)[:, 0])[band]) ** 2))

    for lo, hi in ((6000, 9000), (9000, 14000), (14000, 20000)):
        assert abs(level(y, lo, hi) - level(dsp, lo, hi)) < 1.0, (lo, hi)
    short = Enhancer.load(tmp_path / "prior", precision="fp32", segment_frames=40)
    np.testing.assert_allclose(short.enhance(x, RATE, lowpass_hz=5500.0)[0], y, atol=2e-5)


def test_noise_fill_lays_the_envelope_over_noise_at_each_channels_copied_level(tmp_path):
    """``fill=noise`` (an export option: training judges the envelope alone): the band is noise,
    not the copy, at the level the copy would have had in each channel, so a panned source keeps
    its balance; below the low-pass nothing changes; and the noise is the same frames however
    the signal is cut into segments."""
    from spectral_enhance.inference.enhancer import Enhancer
    from spectral_enhance.training.export import export
    from tiny import tiny_band_checkpoint

    options = {"envelope": True, "tilt_prior": True, "hop_length": 1024}
    checkpoint = tiny_band_checkpoint(tmp_path / "prior.pt", options=options)
    export(checkpoint, tmp_path / "copy", precisions=("fp32",))
    card = export(
        checkpoint, tmp_path / "noise", precisions=("fp32",), model_options={"fill": "noise"}
    )
    assert card["noise_band_bins"] == 8  # its graph gives the band's amplitudes, not a spectrum
    x = _lowpassed(8.0, 5500.0) * np.array([1.0, 0.3], np.float32)  # panned left
    copied, _ = Enhancer.load(tmp_path / "copy", precision="fp32").enhance(
        x, RATE, lowpass_hz=5500.0
    )
    noise = Enhancer.load(tmp_path / "noise", precision="fp32")
    filled, _ = noise.enhance(x, RATE, lowpass_hz=5500.0)
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)

    def level(z: np.ndarray, lo: float, hi: float) -> np.ndarray:  # dB per channel
        band = (freqs > lo) & (freqs < hi)
        return 10 * np.log10(np.mean(np.abs(np.fft.rfft(z, axis=0)[band]) ** 2, axis=0))

    for lo, hi in ((6000, 9000), (9000, 14000), (14000, 20000)):
        np.testing.assert_allclose(level(filled, lo, hi), level(copied, lo, hi), atol=1.0)
    assert level(filled - x, 100, 5000).max() < level(filled - x, 6000, 20000).min() - 40
    change, copy_change = (filled - x)[:, 0], (copied - x)[:, 0]
    assert abs(np.corrcoef(change, copy_change)[0, 1]) < 0.2  # noise, not the copy
    short = Enhancer.load(tmp_path / "noise", precision="fp32", segment_frames=40)
    np.testing.assert_allclose(short.enhance(x, RATE, lowpass_hz=5500.0)[0], filled, atol=2e-5)


def test_holes_fill_a_codecs_hole_under_the_cut_and_nothing_else(tmp_path):
    """``holes=true`` (an export option, `dsp.holes`): a band emptied under the low-pass, as an
    MP3 encoder empties one it has no bits for, comes back as noise a little under its
    neighbours (where `dsp.holes`' net puts it); the rest under the low-pass is the input's,
    the band above is as without it, and segments leave no trace (the half second a band is
    judged over is in the margin)."""
    from spectral_enhance.dsp.stft import StftConfig
    from spectral_enhance.inference.enhancer import Enhancer
    from spectral_enhance.training.export import export
    from tiny import tiny_band_checkpoint

    options = {"envelope": True, "tilt_prior": True, "hop_length": 1024}
    checkpoint = tiny_band_checkpoint(tmp_path / "prior.pt", options=options)
    noise = {"fill": "noise"}
    export(checkpoint, tmp_path / "plain", precisions=("fp32",), model_options=noise)
    card = export(
        checkpoint,
        tmp_path / "holes",
        precisions=("fp32",),
        model_options=noise,
        hole_net=BUNDLED_HOLE_NET,
    )
    assert card["holes_frames"] == 23 and card["context_frames"] == 4 + 8  # covers the holes' 11
    assert "but for the codec's holes" in card["form"]
    assert (tmp_path / "holes" / card["hole_net"]).read_bytes() == BUNDLED_HOLE_NET.read_bytes()
    config = StftConfig(2048, 1024, 2048)
    x = _lowpassed(8.0, 5500.0)
    spec = stft(x.T, config)  # [channels, 2, frames, bins]
    hole = (slice(None), slice(None), slice(150, 160), slice(168, 192))  # 3.6-4.1 kHz, 0.23 s
    spec[hole] = 0
    x = istft(spec, len(x), config).T
    plain, _ = Enhancer.load(tmp_path / "plain", precision="fp32").enhance(
        x, RATE, lowpass_hz=5500.0
    )
    holes = Enhancer.load(tmp_path / "holes", precision="fp32")
    filled, _ = holes.enhance(x, RATE, lowpass_hz=5500.0)
    added = stft((filled - plain).T, config)
    filled_db = 10 * np.log10(np.mean(added[:, :, 152:158, 170:190] ** 2))
    around = np.concatenate([spec[:, :, 152:158, 144:168], spec[:, :, 152:158, 192:216]], -1)
    assert -12.0 < filled_db - 10 * np.log10(np.mean(around**2)) < 0.0
    others = added.copy()
    others[:, :, 146:164, 160:200] = 0  # the hole, and its leak into the bands either side
    # nothing else, but for a stray band here and there the net puts 4 dB up (the threshold
    # under a 32 kbps low-pass, `dsp.holes.threshold_db`): one in a thousand at most
    bands = np.abs(others).reshape(*others.shape[:3], -1, 25).max(axis=(1, 4))
    assert np.mean(bands > 1e-3 * np.abs(added).max()) < 1e-3
    short = Enhancer.load(tmp_path / "holes", precision="fp32", segment_frames=40)
    np.testing.assert_allclose(short.enhance(x, RATE, lowpass_hz=5500.0)[0], filled, atol=2e-5)
    # The folder's own net is the one used: one that puts every band 100 dB under its
    # neighbours finds no hole.
    geometry = HoleGeometry(RATE, 2048, 1024, 8)
    silent = [(np.zeros((4, 11)), np.zeros(4)), (np.zeros((1, 4)), np.array([-10.0]))]
    HoleNet.write(tmp_path / "silent.onnx", silent, geometry)
    export(
        checkpoint,
        tmp_path / "none-found",
        precisions=("fp32",),
        model_options=noise,
        hole_net=tmp_path / "silent.onnx",
    )
    none_found = Enhancer.load(tmp_path / "none-found", precision="fp32")
    np.testing.assert_allclose(none_found.enhance(x, RATE, lowpass_hz=5500.0)[0], plain, atol=1e-6)


def test_holes_are_refused_for_a_model_of_another_stft_than_the_hole_nets(tmp_path):
    """`dsp.holes`' net was fitted at one STFT: exporting ``holes=true`` for a model of another
    fails in one line naming the checkpoint and both, and so does loading such an export."""
    from spectral_enhance.inference.enhancer import Enhancer
    from spectral_enhance.training.export import export
    from tiny import tiny_band_checkpoint

    checkpoint = tiny_band_checkpoint(tmp_path / "hop512.pt", options={"envelope": True})
    noise = {"fill": "noise"}
    with pytest.raises(ValueError, match=r"hop512.pt: holes=true: .*hop 1024.*hop 512"):
        export(checkpoint, tmp_path / "m", model_options=noise, hole_net=BUNDLED_HOLE_NET)
    with pytest.raises(ValueError, match=r"hop512.pt: holes=true needs its hole net"):
        export(checkpoint, tmp_path / "m", model_options={**noise, "holes": True})
    assert not (tmp_path / "m").exists()
    export(checkpoint, tmp_path / "m", precisions=("fp32",), model_options=noise)
    card = tmp_path / "m" / "card.json"
    plain = card.read_text()
    holes = plain.replace('"noise_band_bins": 8,', '"noise_band_bins": 8, "holes_frames": 45,')
    card.write_text(holes)
    with pytest.raises(ValueError, match=r"card.json: fills the codec's holes but names no hole"):
        Enhancer.load(tmp_path / "m", precision="fp32")
    (tmp_path / "m" / "holes.onnx").write_bytes(BUNDLED_HOLE_NET.read_bytes())
    card.write_text(
        holes.replace('"holes_frames": 45,', '"holes_frames": 45, "hole_net": "holes.onnx",')
    )
    with pytest.raises(ValueError, match=r"the hole net was fitted at .*hop 1024"):
        Enhancer.load(tmp_path / "m", precision="fp32")


def test_the_noises_apart_for_many_channels_are_each_made_once():
    """Each channel past the first gets a noise orthogonal to all before it, built on them: with
    eight kept, a twelfth channel's rebuilt the earlier ones over and over (78 builds for 11,
    11 s for a tenth of a second of a 12-channel file), doubling with each channel more."""
    from spectral_enhance.dsp import noise
    from spectral_enhance.dsp.stft import StftConfig

    config = StftConfig(256, 128, 256)  # small: the count is what is checked
    noise._apart_table.cache_clear()
    noise.noise_frames(config, 0, 4, 8, apart=11)
    assert noise._apart_table.cache_info().misses == 11
    noise.noise_frames(config, 0, 4, 8, apart=5)  # kept: a channel before is made no more
    assert noise._apart_table.cache_info().misses == 11


def test_segments_asking_for_the_noise_at_once_build_it_once(monkeypatch):
    """A file's first segments, on a core each, ask for the noise tables together: they are
    built once, not once a segment (each paid a tenth of a second on a file's first ones)."""
    import threading
    import time

    from spectral_enhance.dsp import noise
    from spectral_enhance.dsp.stft import StftConfig

    built, white = [], noise._white_noise

    def slow_white(seed: int) -> np.ndarray:  # long enough for the others to arrive meanwhile
        built.append(seed)
        time.sleep(0.3)
        return white(seed)

    monkeypatch.setattr(noise, "_white_noise", slow_white)
    noise._noise_table.cache_clear()
    noise._apart_table.cache_clear()
    config, together = StftConfig(256, 128, 256), threading.Barrier(3)

    def segment(apart: int) -> None:
        together.wait()
        noise.noise_frames(config, 0, 4, 8, apart=apart)

    threads = [threading.Thread(target=segment, args=(a,)) for a in (0, 0, 1)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        noise._noise_table.cache_clear()  # none of these tables left for other tests
        noise._apart_table.cache_clear()
    assert sorted(built) == [0, 1 << 32]  # the noise, and the one apart from it, once each


def test_an_enhancer_analyses_the_noise_while_a_file_is_opened():
    """An enhancer of a noise-filling model (the bundled one), with a pool, has a core analyse
    the noise (and a second channel's apart from it) while a file is opened and measured: the
    first segment's wait for it cost a command's first file a tenth of a second."""
    from spectral_enhance.dsp import noise
    from spectral_enhance.inference.enhancer import Enhancer

    with noise._LOOKING_UP:  # no build of an earlier test's left running
        noise._noise_table.cache_clear()
        noise._apart_table.cache_clear()
    enhancer = Enhancer.load("full-band", threads=2)
    with enhancer.analysing_noise():
        pass  # a file opened and measured: its end waits for the noise
    assert noise._noise_table.cache_info().currsize == 1
    assert noise._apart_table.cache_info().currsize == 1
    built = noise._noise_table.cache_info().misses
    noise.noise_frames(enhancer.stft, 0, 1, enhancer.rule.noise_band_bins)
    assert noise._noise_table.cache_info().misses == built  # the enhancer's own noise


def test_noise_frames_are_frames_of_one_periodic_noise_at_a_power_of_one_per_band():
    from spectral_enhance.dsp.noise import NOISE_PERIOD, noise_frames
    from spectral_enhance.dsp.stft import StftConfig

    config = StftConfig(2048, 1024, 2048)
    frames = noise_frames(config, -3, 10, 8)
    assert frames.shape == (1, 10, 1025) and frames.dtype == np.complex64
    np.testing.assert_array_equal(frames[:, 5:], noise_frames(config, 2, 5, 8))
    period = NOISE_PERIOD // config.hop_length
    np.testing.assert_array_equal(noise_frames(config, period - 3, 10, 8), frames)
    longer = noise_frames(config, -3, 2 * period + 10, 8, from_bin=500)  # over the table's end
    np.testing.assert_array_equal(longer[:, 2 * period :], frames[..., 500:])
    power = np.abs(frames[0]) ** 2  # [frames, bins]
    bands = power[:, :1024].reshape(10, 128, 8).mean(axis=-1)
    np.testing.assert_allclose(bands, 1.0, rtol=1e-5)
    np.testing.assert_allclose(power[:, 1024], 8.0, rtol=1e-5)  # a band of one bin, over 8


def test_the_model_and_the_enhancer_lay_the_band_over_noise_alike():
    """`lay_over_noise` is one rule for a tensor (the model's forward, in training's terms) and an
    array (the enhancer, after the graph's `band_scale`): the same band, nothing below the cut."""
    from spectral_enhance.dsp.model_inputs import noise_inputs
    from spectral_enhance.dsp.noise import lay_over_noise, noise_frames

    torch.manual_seed(0)
    model = BandExtender(BandConfig(latent=16, envelope=True, hop_length=1024, fill="noise"))
    spec = torch.randn(2, 2, 12, 1025) * torch.logspace(0, -3, 1025)
    spec[..., 300:] = 0
    inputs = copy_inputs(spec, 300.0)
    noise = noise_frames(model.stft, 5, 12, 8)
    with torch.no_grad():
        whole = model(*inputs, noise=torch.from_numpy(noise.copy())).numpy()
        # the graph's inputs, made outside it, are what the model makes of the spectrum
        given = noise_inputs(spec.numpy(), 300.0, 8)
        made = model.band_powers(*inputs[:2])
        for a, b in zip(given[:2], made, strict=True):
            np.testing.assert_allclose(a, b.numpy(), rtol=1e-5, atol=1e-12)
        scale = model.band_scale(*(torch.from_numpy(a) for a in given)).numpy()
    laid = lay_over_noise(noise, scale, inputs[2].numpy(), 8)  # complex, as istft takes it
    laid = np.stack([laid.real, laid.imag], axis=1)
    np.testing.assert_allclose(spec.numpy() + laid, whole, rtol=1e-5, atol=1e-7)
    assert not laid[..., :300].any() and laid[..., 304:].std() > 0


def test_a_dark_signal_is_not_taken_for_a_codecs_cut(band_model, tmp_path):
    """Music that falls silent above 2 kHz measures a 'low-pass' far below any the model
    learned from (under 0.4 of its recipe's lowest, 5.5 kHz): nothing is copied up from there,
    where a band would be loud noise, and the file's line says why."""
    from spectral_enhance.inference.enhancer import Enhancer
    from spectral_enhance.inference.one_file import enhance_file

    enhancer = Enhancer.load(band_model, precision="fp32")
    assert 2100 < enhancer.lowpass_floor_hz < 2300
    x = _lowpassed(3.0, 2000.0)
    y, _ = enhancer.enhance(x, RATE)
    assert np.array_equal(y, x)
    sf.write(tmp_path / "dark.wav", x, RATE, subtype="FLOAT")
    result = enhance_file(enhancer, tmp_path / "dark.wav", tmp_path / "dark.out.wav")
    assert result.lowpass_hz is not None and result.lowpass_hz < 2100
    assert result.rebuilt() is None and result.band().endswith("rebuilds from: kept as it is")
    np.testing.assert_array_equal(sf.read(tmp_path / "dark.out.wav", dtype="float32")[0], x)


def test_a_cut_under_the_lowest_learned_is_rebuilt_from_itself(band_model, tmp_path):
    """A low-pass under the lowest the model learned from (less a margin, 4.4 kHz), where an
    MP3 with no filter stops coding most of its band at 32 kbps, is rebuilt from where it is,
    not from 4.4 kHz, which left the band between the two empty (until 2026-11-27); the line
    says so; what it adds lies above the cut."""
    from spectral_enhance.inference.enhancer import Enhancer
    from spectral_enhance.inference.one_file import enhance_file

    enhancer = Enhancer.load(band_model, precision="fp32")
    x = _lowpassed(3.0, 3600.0)
    sf.write(tmp_path / "low.wav", x, RATE, subtype="FLOAT")
    result = enhance_file(enhancer, tmp_path / "low.wav", tmp_path / "low.out.wav")
    cut = result.lowpass_hz
    assert cut is not None and 3400 < cut < 3800
    assert result.rebuilt() == (cut, RATE / 2)
    assert f"cut at {cut / 1000:.1f} kHz, rebuilding {cut / 1000:.1f}-22.1 kHz" in result.band()
    y = sf.read(tmp_path / "low.out.wav", dtype="float32")[0]
    power = np.abs(np.fft.rfft(y[:, 0])) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    gap = power[(freqs > cut + 100) & (freqs < 4300)].mean()  # empty until 2026-11-27
    assert gap > 0.1 * power[(freqs > 4500) & (freqs < 6000)].mean()
    change = np.abs(np.fft.rfft((y - x)[:, 0]))
    assert change[freqs > cut + 500].mean() > 10 * change[freqs < cut - 500].mean()


def test_an_8_khz_file_is_rebuilt_from_its_own_cut(band_model, tmp_path):
    """An 8 kHz file (FFmpeg's FLAC of music cut at 3.6 kHz) cannot reach 4.4 kHz, the lowest
    cut the model learned from, less a margin: rebuilt from there, its cut to 4.4 kHz stayed
    empty, a notch. It is rebuilt from its own cut, the line says so, and that band is about
    as loud as the band over 4.4 kHz."""
    from audio_tools import run
    from spectral_enhance.inference.enhancer import Enhancer
    from spectral_enhance.inference.one_file import enhance_file

    enhancer = Enhancer.load(band_model, precision="fp32")
    learned = 4400.0  # 0.8 of its recipe's lowest cut, 5.5 kHz
    sf.write(tmp_path / "src.wav", _lowpassed(3.0, 3600.0), RATE, subtype="FLOAT")
    low = tmp_path / "low.flac"
    run(
        "ffmpeg",
        "-v",
        "error",
        "-i",
        tmp_path / "src.wav",
        "-ar",
        "8000",
        "-sample_fmt",
        "s16",
        low,
    )
    result = enhance_file(enhancer, low, tmp_path / "out.wav")
    cut = result.lowpass_hz
    assert cut is not None and 3400 < cut < 4000
    assert result.rebuilt() == (cut, RATE / 2)
    assert f"rebuilding {cut / 1000:.1f}-22.1 kHz" in result.band()
    y = sf.read(tmp_path / "out.wav", dtype="float32")[0].mean(axis=1)
    power = np.abs(np.fft.rfft(y)) ** 2
    freqs = np.fft.rfftfreq(len(y), 1 / RATE)
    gap = power[(freqs > cut + 100) & (freqs < learned - 100)].mean()
    above = power[(freqs > learned + 100) & (freqs < learned + 1500)].mean()
    assert gap > 0.1 * above, 10 * np.log10(gap / above)


def test_predicting_the_envelope_sets_the_bands_level_whatever_the_copys_level():
    """``envelope``: the copy is divided by its own level per band, so a band of the output is
    as loud as the network says, however loud its source under the low-pass was."""
    torch.manual_seed(0)
    model = BandExtender(BandConfig(latent=16, envelope=True)).eval()
    spec = torch.randn(1, 2, 12, 1025) * torch.logspace(0, -3, 1025)  # a falling spectrum
    spec[..., 300:] = 0  # a codec's low-pass at bin 300
    spec[..., 150:190] *= 30  # a loud stretch in the band that is copied up
    with torch.no_grad():
        out = model(*copy_inputs(spec, 300.0))
    power = out.pow(2).sum(dim=1)[0, :, 304:1024].reshape(12, -1, 8).mean(dim=-1)
    loudness = spec.pow(2).sum(dim=1)[0].reshape(12, 1025)[:, :1024].reshape(12, -1, 8)
    frame = loudness.mean(dim=-1).mean(dim=-1, keepdim=True)  # the mean band power per frame
    # an untrained network predicts every band at the starting level under the frame's power
    ratio = power / (frame * np.exp(-4.0))  # (the model's last band holds the 1,025th bin)
    np.testing.assert_allclose(ratio, torch.ones_like(ratio), rtol=1e-2)
    assert float(ratio.std()) < 1e-4
    plain = BandExtender(BandConfig(latent=16)).eval()  # the gain on the copy's own level
    with torch.no_grad():
        copied = plain(*copy_inputs(spec, 300.0)).pow(2).sum(dim=1)[0, :, 304:1024]
    bands = copied.reshape(12, -1, 8).mean(dim=-1)
    assert bands.max() / bands.min() > 100  # the copy's own loud stretch shows through


def test_the_band_loss_asks_for_the_level_and_weighs_what_it_is_told_to():
    from spectral_enhance.training.losses import band_loss

    torch.manual_seed(0)
    target = torch.randn(1, 2, 16, 1025)
    cutoff, top = torch.tensor([300.0]), torch.tensor([1000.0])

    def loss(scale: float, **kwargs: float) -> float:
        return float(band_loss(target * scale, target, cutoff, top, **kwargs))

    assert loss(1.0) == pytest.approx(0.0, abs=1e-6)
    assert loss(2.0) == pytest.approx(loss(0.5))  # symmetric in log power
    assert loss(2.0, overshoot=2.0) == pytest.approx(2 * loss(0.5, overshoot=2.0))
    shuffled = target[..., torch.randperm(1025)]  # other fine structure, about the same level
    fine = float(band_loss(shuffled, target, cutoff, top))
    coarse = float(band_loss(shuffled, target, cutoff, top, fine=0.0))
    assert coarse < 0.3 * fine  # without the per-bin term the fine structure costs little
    # loudness: the same 6 dB error costs more in a loud band than in a quiet one
    loud = target.clone()
    loud[..., 600:608] *= 10
    error_loud, error_quiet = loud.clone(), loud.clone()
    error_loud[..., 600:608] *= 2
    error_quiet[..., 704:712] *= 2

    def loudness_loss(prediction: torch.Tensor) -> float:
        return float(band_loss(prediction, loud, cutoff, top, fine=0.0, loudness=0.2))

    assert loudness_loss(error_loud) > 2 * loudness_loss(error_quiet) > 0  # 100 ** 0.2 = 2.5
    in_log = [float(band_loss(p, loud, cutoff, top, fine=0.0)) for p in (error_loud, error_quiet)]
    assert in_log[0] == pytest.approx(in_log[1])
    silent = torch.zeros_like(loud, requires_grad=True)  # a band the copy leaves empty
    band_loss(silent, loud, cutoff, top, fine=0.0, loudness=0.2).backward()
    assert torch.isfinite(silent.grad).all()


def test_a_files_channels_share_one_envelope_so_the_band_keeps_their_image():
    torch.manual_seed(1)
    model = BandExtender(BandConfig(latent=16, envelope=True)).eval()
    with torch.no_grad():
        for block in model.blocks:  # a network whose prediction depends on its input
            block.from_latent.pointwise.weight.normal_(0, 0.3)
    left = torch.randn(1, 2, 12, 1025) * torch.logspace(0, -3, 1025)
    right = 0.25 * left + 0.1 * torch.randn_like(left) * torch.logspace(0, -3, 1025)
    spec = torch.cat([left, right])
    spec[..., 300:] = 0
    inputs = copy_inputs(spec, 300.0)
    with torch.no_grad():
        out = model(*inputs)
        model.link_channels = False  # as in training: each item on its own
        apart = model(*inputs)

    def gains(x: torch.Tensor) -> torch.Tensor:  # what each channel's copy was scaled by
        return (x - spec)[:, 0, :, 304:] / inputs[1][:, 0, :, 304:]

    linked, unlinked = gains(out), gains(apart)
    torch.testing.assert_close(linked[0], linked[1])  # one gain: the copy's image is kept
    assert float((unlinked[0] / unlinked[1]).log().abs().median()) > 0.05  # each its own


def test_export_takes_a_word_as_a_model_option_and_refuses_an_unknown_fill(tmp_path, capsys):
    """``--model-option fill=noise`` from the command line: a value that is not JSON is a word;
    a fill the model does not know is one line naming it."""
    from spectral_enhance.cli import main
    from spectral_enhance.inference.card import ModelCard
    from tiny import tiny_band_checkpoint

    options = {"envelope": True, "hop_length": 1024}
    checkpoint = str(tiny_band_checkpoint(tmp_path / "band.pt", options=options))
    command = ["export", checkpoint, "--out", str(tmp_path / "noise"), "--precisions", "fp32"]
    assert main([*command, "--model-option", "fill=noise"]) == 0
    assert ModelCard.read(tmp_path / "noise").rule.noise_band_bins == 8
    capsys.readouterr()
    assert main([*command[:3], str(tmp_path / "hiss"), *command[4:], "--model-option", "fill=hiss"])
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "fill must be one of" in error and "hiss" in error
    # --hole-net ships the net and sets holes; a missing one is one line naming it
    holes = [*command[:3], str(tmp_path / "holes"), *command[4:], "--model-option", "fill=noise"]
    assert main([*holes, "--hole-net", str(BUNDLED_HOLE_NET)]) == 0
    card = ModelCard.read(tmp_path / "holes")
    assert card.rule.holes_frames and card.hole_net_file().is_file()
    capsys.readouterr()
    assert main([*holes, "--hole-net", str(tmp_path / "gone.onnx")])
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "gone.onnx: hole net missing" in error


def test_two_channels_are_laid_over_noise_as_alike_as_told_at_their_power():
    """With a channel likeness (-1, opposed, to 1), each band and frame of the two channels
    correlates at it, and each channel's band keeps exactly the power its amplitude asks for
    (the second noise is orthogonal to the first, band by band and frame by frame)."""
    from spectral_enhance.dsp.copy_rule import copy_map
    from spectral_enhance.dsp.noise import lay_over_noise, noise_frames
    from spectral_enhance.dsp.stft import StftConfig

    config, frames = StftConfig(2048, 1024, 2048), 40
    noise = noise_frames(config, 3, frames, 8)
    apart = noise_frames(config, 3, frames, 8, apart=True)
    scale = np.random.default_rng(0).uniform(0.5, 2.0, (2, frames, 129)).astype(np.float32)
    above = copy_map(300.0, 1025)[1]
    coherence = np.linspace(-1.0, 1.0, frames)
    out = lay_over_noise(noise, scale, above, 8, coherence, apart)
    assert not out[..., :300].any()
    for band in range(38, 128):  # every whole band above the cut (the last is Nyquist's alone)
        left, right = (out[c, :, band * 8 : band * 8 + 8] for c in (0, 1))  # complex
        power = [(np.abs(x) ** 2).sum(axis=1) for x in (left, right)]
        for channel in (0, 1):
            np.testing.assert_allclose(power[channel], 8 * scale[channel, :, band] ** 2, rtol=1e-4)
        together = (left * right.conj()).real.sum(axis=1) / np.sqrt(power[0] * power[1])
        np.testing.assert_allclose(together, coherence, atol=1e-4)


def test_the_priors_smoothing_is_set_in_seconds_at_the_models_rate():
    """The tilt prior's slope is measured over about 0.37 s at any rate: half as many frames at
    22.05 kHz as at 44.1 kHz, and the model's reach follows."""
    kind = {"envelope": True, "tilt_prior": True, "hop_length": 1024}
    full, half = (BandConfig(**kind, sample_rate=rate) for rate in (44_100, 22_050))
    assert (full.tilt_frames, half.tilt_frames) == (17, 9)
    assert BandExtender(full).reach - BandExtender(half).reach == 4
    assert BandConfig.from_dict({k: v for k, v in full.to_dict().items() if k != "sample_rate"})
    with pytest.raises(ValueError, match="sample_rate must be positive"):
        BandConfig(**kind, sample_rate=0)


def test_calm_halves_the_rebuilt_bands_swing_about_its_course(tmp_path):
    """``calm`` (an export option of a noise-filling model, which the enhancer carries out:
    `dsp.band_level.calm_band`) scales how far the rebuilt band's level, per 2.8 kHz and frame,
    swings about its course over 0.5 s: at 0.5 a band pumped by the music under the low-pass
    swings half as many dB as predicted, and a panned source keeps its balance; its reach is in
    the margin, so short segments give what one long one does, and a segment's silent margin
    does not drag the course down: the first frames keep their level."""
    from spectral_enhance.dsp.stft import stft
    from spectral_enhance.inference.enhancer import Enhancer
    from spectral_enhance.training.export import export
    from tiny import tiny_band_checkpoint

    with pytest.raises(ValueError, match="calm must be"):
        BandConfig(envelope=True, calm=0.5)  # the copy: nothing to calm
    options = {"envelope": True, "tilt_prior": True, "hop_length": 1024}
    checkpoint = tiny_band_checkpoint(tmp_path / "prior.pt", options=options, untrained=True)
    swings, balance, context, levels = {}, {}, {}, {}
    t = np.arange(int(6.0 * RATE)) / RATE
    pump = 1.0 + 0.9 * np.sign(np.sin(2 * np.pi * 2.0 * t))
    mono = _lowpassed(6.0, 5500.0, channels=1).reshape(-1, 1)
    pumped = (mono * pump[:, None] * np.array([1.0, 0.3])).astype(np.float32)  # panned left
    for calm in (1.0, 0.5):
        folder = tmp_path / f"calm{calm:g}"
        options = {"fill": "noise", "calm": calm}
        card = export(checkpoint, folder, precisions=("fp32",), model_options=options)
        context[calm] = card["context_frames"]
        enhancer = Enhancer.load(folder, precision="fp32")
        y, _ = enhancer.enhance(pumped, RATE, lowpass_hz=5500.0)
        band = stft(np.ascontiguousarray((y - pumped).T), enhancer.stft)[..., 300:428]
        levels[calm] = 10 * np.log10((band**2).sum(axis=(1, 3)))  # [channels, frames], dB
        level = levels[calm][:, 15:-15]
        swings[calm], balance[calm] = level[0].std(), level[0] - level[1]
        if calm != 1.0:
            short = Enhancer.load(folder, precision="fp32", segment_frames=40)
            again, _ = short.enhance(pumped, RATE, lowpass_hz=5500.0)
            np.testing.assert_allclose(again, y, atol=2e-5)
    assert context[0.5] == context[1.0] + 11  # half of 23 frames, 0.5 s at hop 1,024
    assert 0.4 < swings[0.5] / swings[1.0] < 0.6, swings
    moved = balance[0.5] - balance[1.0]  # the source stays put
    assert abs(moved.mean()) < 0.2 and np.median(np.abs(moved)) < 0.3, moved
    # the first loud quarter second is calmed no more than a later one: its course is the
    # music's, not dragged down by the segment's silent margin before it (which took 50 dB)
    calmed = levels[0.5][0] - levels[1.0][0]
    assert calmed[3:9].mean() > calmed[46:52].mean() - 1.0, calmed


def test_under_a_32_kbps_low_pass_the_band_is_calmed_to_half_its_swing(tmp_path):
    """`dsp.band_level.calm_share`: a model exported with ``calm=0.75`` keeps three quarters of the
    band's swing over LAME's 48 kbps low-pass (7.6 kHz) and half under its 32 kbps one
    (5.5 kHz), where its moments are predicted from less."""
    from spectral_enhance.dsp.band_level import LOW_CUT_CALM, LOW_CUT_HZ, calm_share
    from spectral_enhance.dsp.stft import stft
    from spectral_enhance.inference.enhancer import Enhancer
    from spectral_enhance.training.export import export
    from tiny import tiny_band_checkpoint

    assert calm_share(0.75, 5500.0) == LOW_CUT_CALM == 0.5 and calm_share(0.75, 7600.0) == 0.75
    assert calm_share(1.0, 5500.0) == 1.0 and calm_share(0.3, 5500.0) == 0.3
    assert 5600.0 < LOW_CUT_HZ < 7400.0  # between the two bitrates' measured low-passes
    options = {"envelope": True, "tilt_prior": True, "hop_length": 1024}
    checkpoint = tiny_band_checkpoint(tmp_path / "prior.pt", options=options, untrained=True)
    t = np.arange(int(6.0 * RATE)) / RATE
    pump = 1.0 + 0.9 * np.sign(np.sin(2 * np.pi * 2.0 * t))
    mono = _lowpassed(6.0, 5500.0, channels=1).reshape(-1, 1)
    pumped = (mono * pump[:, None] * np.array([1.0, 1.0])).astype(np.float32)
    swings = {}
    for calm in (1.0, 0.75):
        folder = tmp_path / f"calm{calm:g}"
        export(
            checkpoint, folder, precisions=("fp32",), model_options={"fill": "noise", "calm": calm}
        )
        enhancer = Enhancer.load(folder, precision="fp32")
        for lowpass in (5500.0, 7600.0):
            y, _ = enhancer.enhance(pumped, RATE, lowpass_hz=lowpass)
            band = stft(np.ascontiguousarray((y - pumped).T), enhancer.stft)[..., 360:488]
            level = 10 * np.log10((band**2).sum(axis=(1, 3)))[0, 15:-15]  # dB per frame
            swings[calm, lowpass] = level.std()
    assert 0.4 < swings[0.75, 5500.0] / swings[1.0, 5500.0] < 0.6, swings
    assert 0.65 < swings[0.75, 7600.0] / swings[1.0, 7600.0] < 0.85, swings


def test_above_a_128_kbps_low_pass_the_band_is_rebuilt_6_db_fainter(monkeypatch):
    """`dsp.band_level.band_share`: from `HIGH_CUT_HZ` (between LAME's 112 and 128 kbps
    low-passes) up, the bundled model's band is laid at half its amplitude; everything under
    the cut, and any band rebuilt from a lower cut, is as the model makes it."""
    from spectral_enhance.dsp import band_level
    from spectral_enhance.dsp.stft import power, spectrum
    from spectral_enhance.inference.enhancer import Enhancer

    assert band_level.band_share(16_620.0) == band_level.HIGH_CUT_SHARE == 0.5
    assert band_level.band_share(15_020.0) == 1.0
    # between the cuts measured in lame's 112 kbps files (up to 15.3 kHz) and its 128 kbps ones
    # (from 15.97 kHz): a 128 kbps file is never taken for a lower bitrate's
    assert 15_300.0 < band_level.HIGH_CUT_HZ < 15_950.0
    assert band_level.band_share(15_970.0) == 0.5
    enhancer = Enhancer.load()
    changes = {}
    for cut in (15_020.0, 16_620.0):
        x = _lowpassed(4.0, cut)
        for share in (0.5, 1.0):
            monkeypatch.setattr(band_level, "HIGH_CUT_SHARE", share)
            y, _ = enhancer.enhance(x, RATE, lowpass_hz=cut)
            changes[cut, share] = spectrum(np.ascontiguousarray((y - x).T), enhancer.stft)
    np.testing.assert_array_equal(changes[15_020.0, 0.5], changes[15_020.0, 1.0])
    half, full = changes[16_620.0, 0.5], changes[16_620.0, 1.0]
    cut_bin = int(16_620.0 * enhancer.stft.fft_length / RATE)
    above, under = np.s_[:, 2:-2, cut_bin + 8 :], np.s_[:, 2:-2, : cut_bin - 40]
    assert power(full[above]).sum() > 0
    assert power(half[above]).sum() / power(full[above]).sum() == pytest.approx(0.25, rel=0.02)
    # what the share takes away lies above the cut: under it the two differ by next to nothing
    assert power((full - half)[under]).sum() < 1e-4 * power((full - half)[above]).sum()


@pytest.mark.parametrize(
    ("right", "expected"), [(0.5, 0.5), (-0.3, 0.0), (-0.9, -0.5), (-1.0, -1.0)]
)
def test_channels_opposed_in_part_count_as_unrelated_and_cancelling_ones_as_opposed(
    right, expected
):
    """Likeness under the low-pass: as measured from 0 up; under 0 as none (on real music
    the band above does not follow it there), until the channels cancel in their mean
    (under -0.8), from where it runs to -1 for one signal with one channel inverted."""
    from spectral_enhance.dsp.coherence import channel_coherence
    from spectral_enhance.dsp.copy_rule import copy_map
    from spectral_enhance.dsp.stft import StftConfig, power, spectrum

    rng = np.random.default_rng(7)
    shared, own = rng.standard_normal((2, 4 * RATE)).astype(np.float32)
    # left: shared; right: a mix of shared and its own at the likeness `right`
    left = shared
    second = right * shared + np.sqrt(1 - right**2) * own
    spec = spectrum(np.stack([left, second]).astype(np.float32), StftConfig(2048, 1024, 2048))
    above = copy_map(600.0, 1025)[1]
    likeness = channel_coherence(spec, power(spec), above, 9)
    assert np.median(likeness) == pytest.approx(expected, abs=0.06)


def test_more_channels_are_mixed_from_noises_as_alike_as_each_pair_under_the_cut():
    """For three channels and more, each pair's likeness under the low-pass (under 0 as
    none), factored into unit rows: the noises mixed by it are as alike pair by pair, each
    at its power; a silent channel is a noise of its own."""
    from spectral_enhance.dsp.coherence import channels_mixing
    from spectral_enhance.dsp.copy_rule import copy_map
    from spectral_enhance.dsp.stft import StftConfig, spectrum

    rng = np.random.default_rng(11)
    a, b, c = rng.standard_normal((3, 4 * RATE)).astype(np.float32)
    x = np.stack([a, 0.8 * a + 0.6 * b, c, -0.5 * c + 0.866 * b, np.zeros_like(a)])
    spec = spectrum(x, StftConfig(2048, 1024, 2048))
    mixing = channels_mixing(spec, copy_map(600.0, 1025)[1], 9)
    assert mixing.shape == (spec.shape[1], 5, 5)
    np.testing.assert_allclose(np.square(mixing).sum(axis=-1), 1.0, rtol=1e-5)
    assert np.all(np.triu(mixing, 1) == 0)
    alike = np.median(mixing @ mixing.transpose(0, 2, 1), axis=0)
    expected = np.eye(5)
    expected[0, 1] = expected[1, 0] = 0.8
    expected[1, 3] = expected[3, 1] = 0.6 * 0.866
    # channels 2 and 3 are opposed in part (-0.5): as none
    np.testing.assert_allclose(alike, expected, atol=0.07)


def test_the_tilt_prior_stays_finite_after_a_burst_far_louder_than_the_rest():
    """A running mean's rounding after a burst 200 dB over the rest once left a power under 0
    there, and the prior's log NaN, which the model spread over its output."""
    power = np.random.default_rng(0).random((1, 400, 1025)).astype(np.float32) * 1e-6
    power[:, 200] = 1e14
    assert np.isfinite(tilt_envelope(power, 256, 17, np.array([300.0, 600.0]))).all()


def test_the_noises_apart_are_orthogonal_band_by_band_and_frame_by_frame_at_one_power():
    """Four noises, one for each of four channels: every pair's cross power in each band of
    8 bins and each frame is 0 and each noise's power there is 8 (one per bin), so noises mixed
    for any likeness have exactly it and the power they are given."""
    from spectral_enhance.dsp.noise import noise_frames
    from spectral_enhance.dsp.stft import StftConfig

    config = StftConfig(2048, 1024, 2048)
    noises = np.concatenate([noise_frames(config, 7, 30, 8, apart=k) for k in range(4)])
    bands = noises[:, :, : 128 * 8].reshape(4, 30, 128, 8)
    gram = np.einsum("iftb,jftb->ftij", bands, bands.conj()).real
    np.testing.assert_allclose(gram, np.broadcast_to(8 * np.eye(4), gram.shape), atol=1e-3)
    np.testing.assert_array_equal(noises[1], noise_frames(config, 7, 30, 8, apart=True)[0])
    assert np.isfinite(noises).all()  # Nyquist's band, one real bin, holds the first alone


def test_channels_that_cancel_are_opposed_among_more_than_two():
    """Three channels, the third the first inverted: those two are mixed opposed (as two
    channels that cancel are), the second unrelated to both."""
    from spectral_enhance.dsp.coherence import channels_mixing
    from spectral_enhance.dsp.copy_rule import copy_map
    from spectral_enhance.dsp.stft import StftConfig, spectrum

    a, b = np.random.default_rng(12).standard_normal((2, 4 * RATE)).astype(np.float32)
    spec = spectrum(np.stack([a, b, -a]), StftConfig(2048, 1024, 2048))
    mixing = channels_mixing(spec, copy_map(600.0, 1025)[1], 9)
    alike = np.median(mixing @ mixing.transpose(0, 2, 1), axis=0)
    expected = np.eye(3)
    expected[0, 2] = expected[2, 0] = -1.0
    np.testing.assert_allclose(alike, expected, atol=0.07)


def test_lead_cap_holds_the_band_to_the_power_of_the_bins_leading_up_to_the_cut():
    """`dsp.band_level.lead_cap` lowers the band until its first bins above the low-pass hold no
    more power per bin than the input's bins just under it (`LEAD_BINS`), over `LEAD_FRAMES`
    frames, counting only frames where the input has power and each channel's share of a
    summed one; a band already fainter is left as it is, and one louder only where it is."""
    from spectral_enhance.dsp.band_level import LEAD_BINS, lead_cap
    from spectral_enhance.dsp.copy_rule import copy_map

    bins, frames, band_bins = 1025, 30, 8
    above = copy_map(400.0, bins)[1]
    start = int(above.argmax())
    given = np.zeros((1, frames, bins), np.float32)  # two channels summed, as the graph's
    given[..., start - LEAD_BINS[0] : start - LEAD_BINS[1]] = 2.0 * 1e-4  # 1e-4 per channel
    given[:, :5] = 0.0  # a silent margin: not counted
    loud = np.full((2, frames, 129), 0.1, np.float32)  # power 1e-2 per bin: 20 dB over
    held = lead_cap(loud, above, band_bins, given)
    first = start // band_bins
    np.testing.assert_allclose(held[..., first:], 0.01, rtol=1e-5)  # power 1e-4 per bin
    np.testing.assert_array_equal(held[..., :first], loud[..., :first])
    faint = np.full((2, frames, 129), 0.005, np.float32)
    assert lead_cap(faint, above, band_bins, given) is faint
    assert lead_cap(loud, above, band_bins, np.zeros_like(given)) is loud  # nothing sounding
    burst = np.full((2, 120, 129), 0.005, np.float32)
    burst[:, 60:] = 0.1  # loud from frame 60 on, over a longer signal
    given = np.repeat(given[:, -1:], 120, axis=1)
    held = lead_cap(burst, above, band_bins, given)
    np.testing.assert_array_equal(held[:, :45], burst[:, :45])  # farther than half the frames
    np.testing.assert_allclose(held[:, 75:, first:], 0.01, rtol=1e-5)


def test_a_band_is_not_rebuilt_louder_than_the_input_leading_up_to_the_cut():
    """A dark input (the bundled excerpt with nothing over 6 kHz) told a cut at 9 kHz: the
    bundled model would rebuild a band over 9 kHz as if the music reached it; held to the
    nothing under the cut, the band stays 20 dB fainter than so, and far under the music."""
    from scipy import signal

    from spectral_enhance.demo import EXCERPT
    from spectral_enhance.inference import synthesis as module
    from spectral_enhance.inference.enhancer import Enhancer

    x, rate = sf.read(EXCERPT, dtype="float32")
    dark = signal.sosfilt(signal.ellip(10, 0.1, 90, 6000, fs=rate, output="sos"), x, axis=0)
    dark = dark.astype(np.float32)

    def level(y: np.ndarray, low: float, high: float) -> float:
        freqs, _, z = signal.stft(y.T, rate, nperseg=2048)
        band = (freqs >= low) & (freqs < high)
        return 10 * np.log10((np.abs(z[:, band]) ** 2).mean())

    enhancer = Enhancer.load()
    held, _ = enhancer.enhance(dark, rate, lowpass_hz=9000.0)
    lead_cap = module.lead_cap
    try:
        module.lead_cap = lambda scale, *rest: scale
        free, _ = enhancer.enhance(dark, rate, lowpass_hz=9000.0)
    finally:
        module.lead_cap = lead_cap
    assert level(held, 9000, 10250) < level(free, 9000, 10250) - 20
    assert level(held, 9000, 20000) < level(dark, 4000, 6000) - 40
    # its reach is in the margin: short segments give what one long one does
    short = Enhancer.load(segment_frames=40)
    np.testing.assert_allclose(short.enhance(dark, rate, lowpass_hz=9000.0)[0], held, atol=2e-5)


def test_only_the_frames_that_make_a_segments_middle_are_laid_and_as_in_the_whole():
    """The enhancer lays the noise (and fills the holes) only in the frames whose windows reach
    a segment's middle, a seventh fewer than the segment's: each is as it would be laid over
    the whole segment, the channels' likeness and the holes' loudest taken from the frames
    around it as before."""
    from spectral_enhance.inference.enhancer import Enhancer

    config = StftConfig(2048, 1024, 2048)
    x = _lowpassed(30.0, 5500.0)
    spec = stft(x.T, config)
    spec[:, :, 500:524, 168:192] = 0  # a hole at 3.6-4.1 kHz where two segments meet
    x = istft(spec, len(x), config).T
    enhancer = Enhancer.load()
    laid, seen = enhancer._lay_over_noise, []

    def checked(scale, spectrum, inputs, first, cutoff, per_bin, kept):
        part = laid(scale, spectrum, inputs, first, cutoff, per_bin, kept)
        whole = laid(scale, spectrum, inputs, first, cutoff, per_bin)
        np.testing.assert_array_equal(part, whole[:, kept])
        seen.append((kept, scale.shape[1], np.abs(part[..., 120:240]).max()))
        return part

    enhancer._lay_over_noise = checked
    enhancer.enhance(x, RATE, lowpass_hz=5500.0)
    margin = enhancer.margin // config.hop_length
    assert len(seen) == 3
    for kept, frames, _ in seen:
        assert kept.start == margin and frames - kept.stop > margin - 4
    assert max(filled for *_, filled in seen) > 0  # holes were filled under the cut


def test_fill_dips_fills_the_copys_sawtooth_and_keeps_steps_and_the_band_under_the_cut():
    """A rebuilt band falling 12 dB over each patch's top bands and rising at the next (the copy
    of the MP3's weak top kilohertz) comes back level; a step down (a darker band above) stays,
    and so does everything under the first rebuilt band."""
    from spectral_enhance.dsp.band_level import DIP_BANDS, fill_dips

    patch = np.array([1.0] * 12 + [0.5, 0.35, 0.25], np.float32)  # -12 dB at its top
    band = np.concatenate([np.full(20, 3.0, np.float32), np.tile(patch, 4), np.full(20, 0.1)])
    scale = np.broadcast_to(band, (2, 3, band.size)).copy()
    out = fill_dips(scale, 20)
    assert DIP_BANDS == 9
    np.testing.assert_array_equal(out[..., :20], scale[..., :20])  # under the cut: as it was
    assert out[0, 0, 20 : 20 + 3 * 15].min() == 1.0  # the patches' tops rise to their shoulders
    np.testing.assert_array_equal(out[..., -15:], scale[..., -15:])  # the step down stays
    assert np.all(out >= scale)

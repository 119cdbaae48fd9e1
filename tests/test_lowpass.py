import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import ellip, sosfiltfilt

from conftest import music
from spectral_enhance.audio import read_audio, resample
from spectral_enhance.lowpass import find_lowpass

RATE = 44100


def low_passed(x: np.ndarray, cutoff: float, rate: int = RATE) -> np.ndarray:
    """``x`` through an 8th-order elliptic low-pass (0.1 dB ripple, 80 dB stop), both ways."""
    sos = ellip(8, 0.1, 80, cutoff, fs=rate, output="sos")
    return sosfiltfilt(sos, x, axis=0).astype(np.float32)


@pytest.mark.parametrize("cutoff", [5000, 8270, 11000, 16000])
def test_finds_the_cutoff_of_filtered_music_and_noise(cutoff):
    noise = np.random.default_rng(1).standard_normal((3 * RATE, 2)).astype(np.float32) * 0.1
    for signal in (music(4.0, RATE, channels=2), noise):
        found = find_lowpass(low_passed(signal, cutoff), RATE)
        # The edge reported (12 dB down, on a spectrum smoothed over 100 Hz) lies a little
        # above the filter's passband edge.
        assert found is not None and cutoff <= found <= 1.03 * cutoff + 100, (cutoff, found)


def test_full_band_silent_and_resampled_signals_have_none():
    x = music(4.0, RATE, channels=2)
    assert find_lowpass(x, RATE) is None
    assert find_lowpass(np.zeros((RATE, 2), np.float32), RATE) is None
    # soxr's anti-aliasing filter ends the band at 96 % of Nyquist: not a low-pass.
    assert find_lowpass(resample(x, RATE, 22050), 22050) is None


def test_a_long_silent_or_quiet_intro_does_not_hide_the_cutoff():
    x = low_passed(music(4.0, RATE, channels=2), 8000)
    silent = np.concatenate([np.zeros((30 * RATE, 2), np.float32), x])
    quiet = np.concatenate([x * 0.003] * 8 + [x])
    for signal in (silent, quiet):
        assert 8000 <= find_lowpass(signal, RATE) <= 8340 + 100


@pytest.mark.skipif(not shutil.which("lame"), reason="needs Debian's lame")
@pytest.mark.parametrize(("kbps", "low", "high"), [(64, 10_500, 11_500), (128, 15_500, 17_500)])
def test_lame_mp3_cutoffs(tmp_path, kbps, low, high):
    sf.write(tmp_path / "in.wav", music(6.0, RATE, channels=2), RATE, subtype="PCM_16")
    mp3 = tmp_path / "out.mp3"
    command = ["lame", "--quiet", "-b", str(kbps), "--resample", "44.1"]
    subprocess.run([*command, str(tmp_path / "in.wav"), str(mp3)], check=True)
    samples, rate = read_audio(mp3)
    assert rate == RATE
    assert low <= find_lowpass(samples, rate) <= high


@pytest.mark.parametrize("hop", [None, 4096, 4 * 4096 + 17])
def test_the_meter_measures_a_stream_as_one_signal(hop):
    """Blocks of any size give the spectrum of the whole signal, frame for frame, whatever the
    hop (one longer than a frame skips samples across blocks)."""
    from spectral_enhance.lowpass import SpectrumMeter, average_spectrum

    x = np.random.default_rng(3).standard_normal((90_000, 2)).astype(np.float32)
    meter = SpectrumMeter(22050, hop=hop)
    for start in range(0, len(x), 7_001):
        meter.add(x[start : start + 7_001])
    assert meter.frames == len(range(0, len(x) - 4096 + 1, hop or 2048))
    freqs, power = meter.spectrum()
    whole_freqs, whole = average_spectrum(x, 22050, hop=hop)
    np.testing.assert_array_equal(freqs, whole_freqs)
    np.testing.assert_allclose(power, whole, rtol=1e-5)

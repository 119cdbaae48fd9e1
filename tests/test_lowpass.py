import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import ellip, sosfiltfilt

from conftest import music
from spectral_enhance.audio import read_audio, resample
from spectral_enhance.dsp.lowpass import find_lowpass

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


def test_a_burst_of_damage_does_not_hide_the_cut_and_lasting_treble_is_kept():
    """A damaged frame decoded to loud noise (1,152 samples) in 4 s low-passed at 8 kHz: the
    cut is still found, measured as a whole decode is (a hop of a whole FFT), where the whole
    average finds none. Treble over four frames is content, not damage: no cut."""
    from spectral_enhance.dsp.lowpass import N_FFT, SpectrumMeter

    def cut(x: np.ndarray) -> float | None:
        meter = SpectrumMeter(RATE, hop=N_FFT)
        meter.add(x)
        return meter.lowpass()

    x = low_passed(music(4.0, RATE, channels=2), 8000)
    noise = 0.3 * np.random.default_rng(1).standard_normal((4 * N_FFT, 2)).astype(np.float32)
    burst, treble = x.copy(), x.copy()
    burst[RATE : RATE + 1152] = noise[:1152]
    treble[RATE : RATE + 4 * N_FFT] += 0.1 * noise
    assert cut(burst) == cut(x) and 8000 <= cut(x) <= 8340 + 100
    assert cut(treble) is None


@pytest.mark.parametrize("hop", [None, 4096, 4 * 4096 + 17])
def test_the_meter_measures_a_stream_as_one_signal(hop):
    """Blocks of any size give the spectrum of the whole signal, frame for frame, whatever the
    hop (one longer than a frame skips samples across blocks)."""
    from spectral_enhance.dsp.lowpass import SpectrumMeter, average_spectrum

    x = np.random.default_rng(3).standard_normal((90_000, 2)).astype(np.float32)
    meter = SpectrumMeter(22050, hop=hop)
    for start in range(0, len(x), 7_001):
        meter.add(x[start : start + 7_001])
    assert meter.frames == len(range(0, len(x) - 4096 + 1, hop or 2048))
    freqs, power = meter.spectrum()
    whole_freqs, whole = average_spectrum(x, 22050, hop=hop)
    np.testing.assert_array_equal(freqs, whole_freqs)
    np.testing.assert_allclose(power, whole, rtol=1e-5)


def test_channels_that_cancel_are_measured_on_their_own_power():
    """A signal low-passed at 8 kHz in one channel and inverted in the other has nothing in
    the channels' mean; the meter then takes the channels' own powers, and finds 8 kHz."""
    rate = 22050
    x = low_passed(np.random.default_rng(5).standard_normal(5 * rate), 8000, rate)
    opposed = np.stack([x, -x], axis=1)
    assert 7_500 <= find_lowpass(opposed, rate) <= 8_300
    assert find_lowpass(opposed, rate) == find_lowpass(x, rate)


def lame(tmp_path: Path, name: str, x: np.ndarray, kbps: int) -> Path:
    """``x`` (44.1 kHz) as a CBR MP3 made by Debian's ``lame``, kept at 44.1 kHz."""
    wav = tmp_path / f"{name}.wav"
    sf.write(wav, x, RATE, subtype="PCM_16")
    mp3 = tmp_path / f"{name}.mp3"
    command = ["lame", "--quiet", "-b", str(kbps), "--resample", "44.1", str(wav), str(mp3)]
    subprocess.run(command, check=True)
    return mp3


def test_excerpts_come_from_places_spread_over_the_file(tmp_path):
    """Each excerpt starts near its place (a float WAV whose samples count their own index),
    after the first decoded frame, and holds the samples that follow it there."""
    from spectral_enhance.audio import read_excerpts

    length = 300_000
    ramp = (np.arange(length) / 2**24).astype(np.float32)  # exact in float32
    sf.write(tmp_path / "ramp.wav", ramp, 8000, subtype="FLOAT")
    parts, rate, codec, _ = read_excerpts(tmp_path / "ramp.wav", 10, 2000)
    assert rate == 8000 and len(parts) == 10 and codec == "pcm_f32le"
    for place, part in enumerate(parts):
        index = part[:, 0] * 2**24
        np.testing.assert_array_equal(np.diff(index), 1.0)  # one stretch of the file
        assert len(part) == 2000
        assert 0 < index[0] - (place + 0.5) / 10 * length <= 8192, (place, index[0])
    # Too short for excerpts to save anything: None, and the file is decoded whole.
    assert read_excerpts(tmp_path / "ramp.wav", 10, 20_000) is None


@pytest.mark.skipif(not shutil.which("lame"), reason="needs Debian's lame")
def test_a_file_is_measured_on_excerpts_through_a_quiet_first_half_minute(tmp_path):
    """LAME's 64 kbps cutoff, found on excerpts (the file is long enough to be sampled), also
    when the first 30 s are quiet and reach Nyquist (the loud part sets the level), and with
    cover art, whose picture stream the seeks must not follow."""
    from audio_tools import run
    from spectral_enhance.audio import read_excerpts
    from spectral_enhance.dsp.lowpass import lowpass_of_file

    song = np.tile(music(4.0, RATE, channels=2), (5, 1))  # 20 s
    plain = lame(tmp_path, "plain", song, 64)
    noise = np.random.default_rng(2).standard_normal((30 * RATE, 2)).astype(np.float32)
    late = lame(tmp_path, "late", np.concatenate([0.003 * noise, song]), 64)
    cover, art = tmp_path / "cover.png", tmp_path / "art.mp3"
    ffmpeg = ["ffmpeg", "-v", "error"]
    run(*ffmpeg, "-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", cover)
    attach = ["-map", "0:a", "-map", "1:v", "-c:a", "copy", "-disposition:v", "attached_pic"]
    run(*ffmpeg, "-i", late, "-i", cover, *attach, "-c:v", "png", art)
    for mp3 in (plain, late, art):
        assert read_excerpts(mp3, 32, 8192) is not None
        assert 10_500 <= lowpass_of_file(mp3) <= 11_500, mp3.name


@pytest.mark.skipif(not shutil.which("lame"), reason="needs Debian's lame")
def test_a_file_cut_short_is_measured_on_the_excerpts_it_still_has(tmp_path):
    """A LAME file cut to its first 40 %, whose Info tag still promises the whole: the seeks
    past its end give nothing, and the cut is found on the excerpts before it."""
    from spectral_enhance.audio import read_excerpts
    from spectral_enhance.dsp.lowpass import lowpass_of_file

    whole = lame(tmp_path, "whole", np.tile(music(4.0, RATE, channels=2), (5, 1)), 64)
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) * 2 // 5])
    parts = read_excerpts(cut, 32, 8192).parts
    assert sum(len(part) == 0 for part in parts) >= 16  # the tag's length, not the file's
    assert 10_500 <= lowpass_of_file(cut) <= 11_500


@pytest.mark.skipif(not shutil.which("lame"), reason="needs Debian's lame")
def test_frames_damaged_far_over_full_scale_do_not_move_the_cut(tmp_path):
    """Every 10th frame of a LAME file given a global gain of 255 (decoded at thousands of
    times full scale): the excerpts end at them, and the cut is the clean file's."""
    from audio_tools import with_loud_granule
    from spectral_enhance.dsp.lowpass import lowpass_of_file

    clean = lame(tmp_path, "clean", np.tile(music(4.0, RATE, channels=2), (5, 1)), 64)
    data = clean.read_bytes()
    for frame in range(20, 760, 10):
        data = with_loud_granule(data, frame)
    damaged = tmp_path / "damaged.mp3"
    damaged.write_bytes(data)
    assert lowpass_of_file(damaged) == lowpass_of_file(clean)


def test_a_quiet_first_minute_with_another_band_does_not_move_the_cut(tmp_path):
    """60 s quiet and full band, then 30 s low-passed at 8 kHz: the file's cut is 8 kHz, as
    the whole signal's spectrum says."""
    from spectral_enhance.dsp.lowpass import lowpass_of_file

    rate = 22050
    rng = np.random.default_rng(4)
    quiet = 0.003 * rng.standard_normal((60 * rate, 2)).astype(np.float32)
    loud = low_passed(0.1 * rng.standard_normal((30 * rate, 2)), 8000, rate)
    x = np.concatenate([quiet, loud])
    sf.write(tmp_path / "x.flac", x, rate)
    whole = find_lowpass(x, rate)
    assert 8000 <= whole <= 8340 + 100
    assert abs(lowpass_of_file(tmp_path / "x.flac") - whole) <= 50


def test_a_file_whose_excerpts_are_all_silent_or_short_is_decoded_whole(tmp_path):
    """Sound only between the places excerpts are taken from: the file is decoded whole and the
    cut found; so is a file too short for excerpts."""
    from spectral_enhance.audio import read_excerpts
    from spectral_enhance.dsp.lowpass import lowpass_of_file

    rate = 22050
    x = np.zeros((40 * rate, 1), np.float32)
    burst = low_passed(0.1 * np.random.default_rng(5).standard_normal((rate // 2, 1)), 5000, rate)
    start = int(1.22 * rate)  # to 1.72 s: excerpts start near 0.625 s and 1.875 s
    x[start : start + len(burst)] = burst
    sf.write(tmp_path / "burst.wav", x, rate)
    parts = read_excerpts(tmp_path / "burst.wav", 32, 8192).parts
    assert not any(np.abs(part).max() for part in parts)
    assert 5000 <= lowpass_of_file(tmp_path / "burst.wav") <= 5250
    sf.write(tmp_path / "short.wav", burst, rate)
    assert 5000 <= lowpass_of_file(tmp_path / "short.wav") <= 5250


@pytest.fixture(scope="module")
def excerpt_wav(tmp_path_factory) -> Path:
    """The bundled 12 s of real music (a test-split track) as a WAV the encoders read."""
    from spectral_enhance.demo import EXCERPT

    path = tmp_path_factory.mktemp("excerpt") / "excerpt.wav"
    sf.write(path, sf.read(EXCERPT, dtype="float32")[0], RATE, subtype="PCM_16")
    return path


def cuts_with_and_without_soft(path: Path) -> tuple[float | None, float | None]:
    """The file's low-pass (`lowpass_of_file`, as `enhance` measures it) without the soft cut
    and with it."""
    from spectral_enhance.dsp.lowpass import lowpass_of_file

    return lowpass_of_file(path, soft=False), lowpass_of_file(path)


def unfiltered_mp3(wav: Path, encoder: str, kbps: int) -> Path:
    """``wav`` as an MP3 with no low-pass filter at ``kbps`` (`OTHER_ENCODERS`: ``libshine``,
    or ``lame`` with its filter off), beside it."""
    from audio_tools import other_encoder_mp3

    return other_encoder_mp3(wav, wav.with_name(f"{encoder}{kbps}.mp3"), encoder, kbps)


@pytest.mark.skipif(not shutil.which("lame"), reason="needs Debian's lame")
@pytest.mark.parametrize("kbps", [32, 48, 64, 96, 128])
def test_the_soft_cut_leaves_lame_mp3s_of_real_music_as_they_were(excerpt_wav, kbps):
    """LAME low-passes what it encodes, at its own rate for the bitrate: its band is coded in
    most granules up to its cut, so the soft cut never moves it (the dataset's clips:
    ``scripts/soft_cut_check.py``; at 44.1 kHz and 32 to 64 kbps, as FFmpeg writes them, bits
    run out under the filter and it may)."""
    mp3 = excerpt_wav.with_name(f"lame{kbps}.mp3")
    subprocess.run(["lame", "--quiet", "-b", str(kbps), str(excerpt_wav), str(mp3)], check=True)
    before, after = cuts_with_and_without_soft(mp3)
    assert before is not None and after == before


def assert_coded_under_and_not_over(decoded: np.ndarray, cut: float, top: float) -> None:
    """In ``decoded`` (FFmpeg's, ``[samples, channels]``), the band from ``cut`` to ``top`` is
    silent (120 dB under the frame's loudest) in most sounding frames, and the band under
    ``cut`` is not."""
    decoded = decoded.mean(axis=1)
    frames = np.lib.stride_tricks.sliding_window_view(decoded, 4096)[::2048] * np.hanning(4096)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    power = power[power.max(axis=1) > 1e-6]
    coded = (power >= power.max(axis=1, keepdims=True) * 1e-12).mean(axis=0)
    freqs = np.fft.rfftfreq(4096, 1 / RATE)
    assert coded[(freqs > cut + 500) & (freqs < top)].mean() < 0.5
    assert coded[(freqs > cut - 2000) & (freqs < cut - 500)].mean() > 0.75


@pytest.mark.parametrize(("encoder", "kbps"), [("libshine", 96), ("lame", 64)])
def test_an_unfiltered_mp3_is_cut_where_its_band_stops_being_coded(excerpt_wav, encoder, kbps):
    """With no low-pass filter (libshine; LAME with ``--lowpass -1``) a trace of the band lies
    far above where most granules end it (libshine at 96 kbps: up to 17 kHz, most granules
    holding nothing above 9 to 10 kHz): the cut found is where FFmpeg's decode stops holding
    the band in most frames."""
    from audio_tools import ffmpeg_decode

    mp3 = unfiltered_mp3(excerpt_wav, encoder, kbps)
    before, after = cuts_with_and_without_soft(mp3)
    assert after is not None and before is not None and after < 0.7 * before
    assert_coded_under_and_not_over(ffmpeg_decode(mp3, 2), after, before)


def test_an_mp3_whose_spectrum_shows_no_cut_is_cut_where_its_band_stops_being_coded(
    excerpt_wav, tmp_path
):
    """libshine at 80 kbps on the excerpt leaves traces up to Nyquist too loud for the spectrum
    to show a drop: the MP3 is still cut where FFmpeg's decode stops holding the band in most
    frames. The same decode as a lossless (float) WAV is not: there, treble in a few frames is
    music (`SOFT_BELOW`)."""
    from audio_tools import ffmpeg_decode
    from spectral_enhance.dsp.lowpass import ANTI_ALIAS

    mp3 = unfiltered_mp3(excerpt_wav, "libshine", 80)
    before, after = cuts_with_and_without_soft(mp3)
    assert before is None and after is not None and 5_000 < after < 10_000
    decoded = ffmpeg_decode(mp3, 2)
    assert_coded_under_and_not_over(decoded, after, ANTI_ALIAS * RATE / 2)
    wav = tmp_path / "decoded.wav"
    sf.write(wav, decoded, RATE, subtype="FLOAT")
    assert cuts_with_and_without_soft(wav) == (None, None)
    # The array API, told the samples are an MP3's decode, finds the cut over them all.
    from spectral_enhance.dsp.lowpass import find_lowpass
    from spectral_enhance.inference.enhancer import Enhancer

    enhancer = Enhancer.load("full-band")
    whole = find_lowpass(decoded, RATE, mp3=True)
    assert whole is not None and abs(whole - after) < 500 and find_lowpass(decoded, RATE) is None
    np.testing.assert_array_equal(enhancer.enhance(decoded, RATE)[0], decoded)  # no cut seen
    told = enhancer.enhance(decoded, RATE, lowpass_hz=whole)[0]
    np.testing.assert_array_equal(enhancer.enhance(decoded, RATE, mp3=True)[0], told)


def test_told_the_soft_cut_the_model_restores_a_libshine_mp3_better(excerpt_wav):
    """Zimtohrli against the lossless excerpt, on FFmpeg's decode of libshine's 64 kbps MP3
    aligned to it: the model told the soft cut gains on the input and on the cut before it
    (which rebuilt only above the trace; validation: ``scripts/soft_cut_check.py``)."""
    from audio_tools import ffmpeg_decode, lag
    from spectral_enhance.evaluation.metrics import zimtohrli_mos
    from spectral_enhance.inference.enhancer import Enhancer

    reference = sf.read(excerpt_wav, dtype="float32")[0]
    mp3 = unfiltered_mp3(excerpt_wav, "libshine", 64)
    decoded = ffmpeg_decode(mp3, 2)
    shift = lag(decoded.mean(axis=1), reference.mean(axis=1))
    low = decoded[shift : shift + len(reference)]
    reference = reference[: len(low)]
    enhancer = Enhancer.load("full-band")

    def score(cut: float | None) -> float:
        out = enhancer.enhance(low, RATE, lowpass_hz=cut)[0] if cut else low
        return zimtohrli_mos(reference, out, RATE)  # channel by channel, averaged

    before, after = cuts_with_and_without_soft(mp3)
    assert score(after) > max(score(None), score(before)) + 0.1


ENCODERS = {
    "lame -b 128": ["lame", "--quiet", "-b", "128"],
    "lame -V 6": ["lame", "--quiet", "-V", "6"],
    "lame --abr 96": ["lame", "--quiet", "--abr", "96"],
    "ffmpeg -b:a 48k": ["-c:a", "libmp3lame", "-b:a", "48k"],
    "ffmpeg -q:a 6": ["-c:a", "libmp3lame", "-q:a", "6"],
    "ffmpeg libshine": ["-c:a", "libshine", "-b:a", "64k"],
}
"""MP3 encoders at a constant bitrate and at a variable one (VBR, ABR): Debian's ``lame``, and
FFmpeg's libmp3lame (at the input's 44.1 kHz) and libshine."""


def encoded(wav: Path, name: str, seconds: float | None = None) -> Path:
    """``wav`` (its first ``seconds``, if given) as an MP3 by `ENCODERS` ``name``, beside it."""
    command = ENCODERS[name]
    mp3 = wav.with_name(f"{name.replace(' ', '_')}-{seconds}.mp3")
    cut = ["-t", str(seconds)] if seconds else []
    if command[0] == "lame":
        if seconds:
            short = wav.with_name(f"{wav.stem}-{seconds}.wav")
            x, rate = sf.read(wav, dtype="int16")
            sf.write(short, x[: round(seconds * rate)], rate, subtype="PCM_16")
            wav = short
        subprocess.run([*command, str(wav), str(mp3)], check=True)
    else:
        head = ["ffmpeg", "-v", "error", "-y", "-i", str(wav), *cut]
        subprocess.run([*head, *command, str(mp3)], check=True)
    return mp3


@pytest.mark.skipif(not shutil.which("lame"), reason="needs Debian's lame")
@pytest.mark.parametrize(
    ("name", "constant"),
    [
        ("lame -b 128", True),
        ("lame -V 6", False),
        ("lame --abr 96", False),
        ("ffmpeg -b:a 48k", True),
        ("ffmpeg -q:a 6", False),
        ("ffmpeg libshine", True),
    ],
)
def test_the_packets_read_tell_a_constant_bitrate_from_a_variable_one(excerpt_wav, name, constant):
    """An MP3 at a constant bitrate has frames of one size (give or take the padding byte),
    whether its excerpts are read or the whole file is decoded (the excerpt twice over, long
    enough for excerpts at LAME's 32 kHz for ABR 96), and one cut off mid-frame or with junk
    in its middle too."""
    from spectral_enhance.audio import open_audio, read_excerpts
    from spectral_enhance.dsp.lowpass import EXCERPT, EXCERPTS

    twice = excerpt_wav.with_name("twice.wav")
    if not twice.exists():
        x, rate = sf.read(excerpt_wav, dtype="int16")
        sf.write(twice, np.concatenate([x, x]), rate, subtype="PCM_16")
    mp3 = encoded(twice, name)
    sampled = read_excerpts(mp3, EXCERPTS, EXCERPT)
    assert sampled is not None and sampled.sizes.constant == constant
    with open_audio(mp3) as reader:
        for _ in reader.blocks():
            pass
        sizes = reader.packet_sizes
    assert sizes.constant == constant and len(sizes.counts) > 1 and min(sizes.counts) > 100
    # Cut off mid-frame (a download stopped), a CBR file ends in one short packet; with junk
    # in its middle, a few packets are of other sizes: still CBR.
    data = mp3.read_bytes()
    junk = bytes(np.random.default_rng(0).integers(0, 256, 700, dtype=np.uint8))
    thirds = [data[i * len(data) // 3 : (i + 1) * len(data) // 3] for i in range(3)]
    for damaged in (data[:-300], junk.join(thirds) + junk[:300]):
        copy = mp3.with_name(f"damaged-{mp3.name}")
        copy.write_bytes(damaged)
        with open_audio(copy) as reader:
            for _ in reader.blocks():
                pass
            assert reader.packet_sizes.constant == constant, reader.packet_sizes.counts


@pytest.fixture(scope="module")
def quiet_excerpt_wav(excerpt_wav) -> Path:
    """The excerpt 20 dB down: a quiet passage, whose bands a VBR encoder leaves empty in most
    frames under its filter, where they lie under the masking threshold."""
    x, rate = sf.read(excerpt_wav, dtype="float32")
    path = excerpt_wav.with_name("quiet.wav")
    sf.write(path, x * np.float32(0.1), rate, subtype="PCM_16")
    return path


@pytest.mark.skipif(not shutil.which("lame"), reason="needs Debian's lame")
@pytest.mark.parametrize("name", ["lame -V 6", "ffmpeg -q:a 6"])
@pytest.mark.parametrize("seconds", [None, 6.0])
def test_a_vbr_mp3_is_cut_where_its_spectrum_shows_not_where_its_frames_stop_coding(
    quiet_excerpt_wav, monkeypatch, name, seconds
):
    """Where the band of a quiet passage stops being coded in most frames, the soft cut would
    come down under LAME's filter (8 to 12 kHz for 16); in a VBR MP3 it is not taken
    (`soft_applies`), from excerpts or, for a short file, from its whole decode. In a CBR MP3
    of the same passage it still is."""
    from spectral_enhance.dsp import lowpass

    mp3 = encoded(quiet_excerpt_wav, name, seconds)
    without, now = cuts_with_and_without_soft(mp3)
    assert without is not None and now == without
    monkeypatch.setattr(lowpass, "soft_applies", lambda codec, sizes: True)
    assert lowpass.lowpass_of_file(mp3) < 0.9 * without  # what the soft cut would have taken
    monkeypatch.undo()
    cbr = encoded(quiet_excerpt_wav, "ffmpeg -b:a 48k", seconds)
    without, now = cuts_with_and_without_soft(cbr)
    assert now is not None and (without is None or now < 0.9 * without)


def test_a_band_end_no_codec_cut_is_not_rebuilt():
    """`codec_cut`: a lossless file's band ending at 16 kHz or above is its master's, and so is
    any an MP3 of 192 kbps or more shows; under those, the cut stands."""
    from spectral_enhance.dsp.lowpass import HIGH_BITRATE, MASTER_BAND_HZ, codec_cut

    assert codec_cut(16_600.0, lossless=True) is None
    assert codec_cut(15_100.0, lossless=True) == 15_100.0  # an MP3 of 96 kbps decoded
    assert codec_cut(MASTER_BAND_HZ, lossless=True) is None
    assert codec_cut(16_600.0, lossless=False) == 16_600.0  # an MP3 of unknown bitrate
    assert codec_cut(16_600.0, lossless=False, mp3_bit_rate=HIGH_BITRATE) is None
    assert codec_cut(16_600.0, lossless=False, mp3_bit_rate=160_000) == 16_600.0
    assert codec_cut(None, lossless=False, mp3_bit_rate=320_000) is None


def test_a_band_ending_well_under_the_recorded_filter_is_the_masters():
    """`kept_reason`: an MP3 whose band, without the soft cut, ends under `FILTER_SHARE` of
    the filter its LAME tag records ended so in its master; near the filter, or with the soft
    cut alone under it (bits run out), or with no filter recorded, or one under
    `FILTER_FROM_HZ` (VBR short of bits), the cut is the codec's."""
    from spectral_enhance.dsp.lowpass import FILTER_FROM_HZ, FILTER_SHARE, codec_cut, kept_reason

    v2 = {"mp3_bit_rate": 170_000, "filter_hz": 18_500.0}
    assert codec_cut(16_600.0, lossless=False, without=16_600.0, **v2) is None
    why = kept_reason(16_600.0, False, without=16_600.0, **v2)
    assert why == "its master's own, under its encoder's 18.5 kHz filter"
    assert codec_cut(18_300.0, lossless=False, without=18_300.0, **v2) == 18_300.0
    edge = FILTER_SHARE * 18_500.0
    assert codec_cut(edge, lossless=False, without=edge, **v2) == edge
    assert codec_cut(13_000.0, lossless=False, without=18_300.0, **v2) == 13_000.0  # soft
    assert codec_cut(13_000.0, lossless=False, without=None, **v2) == 13_000.0
    assert codec_cut(16_600.0, lossless=False, mp3_bit_rate=170_000, without=16_600.0) == 16_600.0
    v6 = {"mp3_bit_rate": 110_000, "filter_hz": FILTER_FROM_HZ - 500}  # VBR short of bits
    assert codec_cut(13_100.0, lossless=False, without=13_100.0, **v6) == 13_100.0
    assert kept_reason(16_600.0, False, mp3_bit_rate=256_000) == "a 256 kbps MP3's own"
    assert kept_reason(16_600.0, True) == "a lossless file's own"
    assert kept_reason(16_600.0, False, own_band="an AAC") == "an AAC file's own"
    assert kept_reason(15_900.0, False, own_band="an AAC") is None  # under MASTER_BAND_HZ


def test_lames_cbr_reaches_a_low_filter_at_its_own_rate_only():
    """`filter_reached`: under `FILTER_FROM_HZ` a recorded filter weighs (`kept_reason`) only
    for a stream its tag names CBR at no more than the rate LAME chooses for that filter
    (`lame_rate`, LAME 3.100's ``optimum_samplefreq``): VBR and ABR run short of bits under
    it, and so does CBR resampled higher."""
    from spectral_enhance.audio.mp3 import lame_rate
    from spectral_enhance.dsp.lowpass import FILTER_FROM_HZ, filter_reached, kept_reason

    rates = {5_500: 16_000, 7_500: 22_050, 11_000: 24_000, 13_500: 32_000, 15_100: 32_000}
    assert {hz: lame_rate(hz) for hz in rates} == rates
    assert lame_rate(15_600) == 44_100 and lame_rate(17_000) == 48_000
    assert filter_reached(FILTER_FROM_HZ) and filter_reached(FILTER_FROM_HZ, rate=48_000)
    assert filter_reached(15_100.0, constant=True, rate=32_000)
    assert filter_reached(15_100.0, constant=True, rate=22_050)  # lower: more bits per band
    assert not filter_reached(15_100.0, constant=True, rate=44_100)  # resampled higher
    assert not filter_reached(15_100.0, constant=False, rate=32_000)  # VBR, ABR
    assert not filter_reached(15_100.0, constant=True)  # rate unknown
    cbr96 = {"filter_hz": 15_100.0, "rate": 32_000, "constant": True}
    why = "its master's own, under its encoder's 15.1 kHz filter"
    assert kept_reason(11_000.0, False, 96_000, without=11_000.0, **cbr96) == why
    assert kept_reason(14_900.0, False, 96_000, without=14_900.0, **cbr96) is None  # 0.99
    assert kept_reason(11_000.0, False, 96_000, without=11_000.0, filter_hz=15_100.0) is None


def test_an_mp3_with_no_tag_at_an_mpeg2_rate_is_weighed_against_lames_filter():
    """`assumed_filter`: a constant bitrate at 16 to 24 kHz with no filter recorded is LAME's,
    at LAME's filter for its bitrate; not a variable one, nor one at MPEG-2.5's rates (LAME's
    own fall short there) or at 32 kHz and up (libshine). `kept_reason` weighs it only for an
    MP3 with no Xing header, under `ASSUMED_SHARE` of it."""
    from spectral_enhance.dsp.lowpass import ASSUMED_SHARE, assumed_filter, kept_reason

    assert assumed_filter(32_000, True, 16_000) == 5_500.0
    assert assumed_filter(48_000, True, 22_050) == 7_500.0
    assert assumed_filter(64_000, True, 24_000) == 11_000.0
    assert assumed_filter(32_000, False, 16_000) is None  # VBR
    assert assumed_filter(16_000, True, 8_000) is None  # MPEG-2.5
    assert assumed_filter(96_000, True, 32_000) is None  # libshine encodes at 32 kHz
    assert assumed_filter(33_000, True, 16_000) is None  # no CBR bitrate
    mpeg2 = {"rate": 16_000, "constant": True, "untagged": True}
    why = "its master's own, under the 5.5 kHz filter LAME sets at 32 kbps"
    assert kept_reason(3_500.0, False, 32_000, without=3_500.0, **mpeg2) == why
    edge = ASSUMED_SHARE * 5_500.0
    assert kept_reason(edge, False, 32_000, without=edge, **mpeg2) is None
    tagged = {**mpeg2, "untagged": False}  # FFmpeg's tag: its bits fall short of the filter
    assert kept_reason(3_500.0, False, 32_000, without=3_500.0, **tagged) is None


def test_a_band_ending_far_under_lames_cut_at_its_bitrate_is_the_masters():
    """`kept_reason`: an MP3 whose band, without the soft cut, ends under `BITRATE_SHARE` of
    where LAME cuts at its mean bitrate (for its channels, between the bitrates measured) ended
    so in its master: no encoder leaves that much unspent. Over it, as low as encoders short of
    bits cut, the cut is the codec's; so is any cut of a file that is not an MP3."""
    from spectral_enhance.audio.mp3 import lame_cut_hz
    from spectral_enhance.dsp.lowpass import BITRATE_SHARE, kept_reason

    assert lame_cut_hz(64, 2) == 10_890.0 and lame_cut_hz(32, 1) == 8_290.0
    assert lame_cut_hz(56, 2) == pytest.approx((7_630.0 + 10_890.0) / 2)  # between 48 and 64
    assert lame_cut_hz(16, 2) == lame_cut_hz(32, 2)  # under the lowest measured: its cut
    far = "its master's own, far under the 10.9 kHz of LAME at 64 kbps"
    assert kept_reason(2_400.0, False, 64_000, without=2_400.0) == far
    assert kept_reason(2_400.0, False, 64_000, without=None) is None  # no band end measured
    edge = BITRATE_SHARE * 10_890.0
    assert kept_reason(edge, False, 64_000, without=edge) is None
    assert kept_reason(6_000.0, False, 64_000, without=6_000.0) is None  # 0.55 of LAME's
    assert kept_reason(3_500.0, False, 32_000, without=3_500.0) is None  # 0.63: bits short
    mono = "its master's own, far under the 8.3 kHz of LAME at 32 kbps"
    assert kept_reason(3_000.0, False, 32_000, without=3_000.0, channels=1) == mono
    assert kept_reason(3_000.0, False, 32_000, without=3_000.0, channels=2) is None  # 0.54
    assert kept_reason(1_400.0, False, 16_000, without=1_400.0, rate=8_000) == (
        "its master's own, far under the 3.8 kHz of LAME at 16 kbps"  # the rate's edge
    )
    assert kept_reason(3_000.0, False, 16_000, without=3_000.0, rate=8_000) is None
    assert kept_reason(2_400.0, False, None, without=2_400.0) is None  # no bitrate known
    assert kept_reason(2_400.0, False, without=2_400.0, bit_rate=64_000) == far  # AAC, Vorbis
    assert kept_reason(2_400.0, True, without=2_400.0) is None  # lossless: its own rules


def test_a_file_whose_encoder_recorded_a_high_filter_takes_no_soft_cut():
    """`file_cut`: LAME's CBR file with its 17.5 kHz filter recorded had the bits to code its
    band to it, so its cut is the one measured without the soft cut; one with no filter
    recorded (lameenc, FFmpeg) takes the soft cut as before; a lossless file's is its own."""
    from pathlib import Path

    from spectral_enhance.audio import AudioInfo
    from spectral_enhance.dsp.lowpass import FileCuts, file_cut

    def info(codec: str, filter_hz: float | None) -> AudioInfo:
        return AudioInfo(
            Path("x"), "mp3", codec, 44100, 2, None, "LAME tag", None, 160_000, filter_hz
        )

    soft = FileCuts(13_000.0, 17_300.0, True)  # the soft cut, and the cut without it
    assert file_cut(soft, info("mp3float", 17_500.0)) == (17_300.0, None)
    assert file_cut(soft, info("mp3float", None)) == (13_000.0, None)
    assert file_cut(soft, info("mp3float", 16_500.0)) == (13_000.0, None)
    kept = file_cut(FileCuts(15_000.0, 15_000.0, True), info("mp3float", 17_500.0))
    assert kept == (15_000.0, "its master's own, under its encoder's 17.5 kHz filter")
    lossless = file_cut(FileCuts(16_600.0, 16_600.0, True), info("flac", None))
    assert lossless == (16_600.0, "a lossless file's own")

import io

import numpy as np
import pytest
import soundfile as sf

from conftest import music
from spectral_enhance import codec
from spectral_enhance.codec import decode_mp3, encode_mp3, read_gapless_info


def lag(decoded: np.ndarray, original: np.ndarray, search: int = 2000) -> int:
    """Offset of ``original`` inside ``decoded`` by cross-correlation (0 = aligned)."""
    a = np.pad(decoded[: 4 * search + 8000], (search, 0))
    b = original[search : search + 8000]
    return int(np.argmax(np.correlate(a, b, "valid"))) - 2 * search


@pytest.mark.parametrize("rate", [22050, 44100, 48000])
@pytest.mark.parametrize("bitrate", [32, 64, 128])
def test_round_trip_is_aligned_and_exact_length(rate, bitrate):
    x = music(1.7, rate, seed=bitrate)
    y, out_rate = decode_mp3(encode_mp3(x, rate, bitrate))
    assert out_rate == rate
    assert y.shape == (len(x), 1)
    assert lag(y[:, 0], x) == 0
    residual = x - y[:, 0]
    assert 10 * np.log10(np.sum(x**2) / np.sum(residual**2)) > 5  # it is the same music


def test_plain_decoder_is_late_without_the_tag(song):
    """What the tag fixes: libsndfile alone returns LAME audio 1,105 samples late and longer."""
    stream = encode_mp3(song, 22050, 128)
    first = codec._frames(stream)[0]
    untagged = stream[first.size :]
    raw, _ = sf.read(io.BytesIO(untagged), dtype="float32")
    assert len(raw) > len(song)
    assert lag(raw, song) == codec.ENCODER_DELAY + codec.DECODER_DELAY


def test_untagged_mp3_falls_back_to_standard_delay(song):
    stream = encode_mp3(song, 22050, 64)
    untagged = stream[codec._frames(stream)[0].size :]
    assert read_gapless_info(untagged) is None
    y, _ = decode_mp3(untagged)
    assert lag(y[:, 0], song) == 0
    assert len(y) >= len(song)


def test_tag_records_delay_padding_and_frames(song):
    info = read_gapless_info(encode_mp3(song, 22050, 32))
    assert info.delay == codec.ENCODER_DELAY
    assert info.length == len(song)
    assert info.samples_per_frame == 576


def test_trims_itself_when_the_decoder_ignores_the_tag(song, monkeypatch):
    """A decoder without gapless support returns everything; the tag still aligns it."""
    stream = encode_mp3(song, 22050, 32)
    untagged = stream[codec._frames(stream)[0].size :]
    plain = sf.read(io.BytesIO(untagged), dtype="float32", always_2d=True)
    monkeypatch.setattr(codec.sf, "read", lambda *a, **k: plain)
    y, _ = decode_mp3(stream)
    assert len(y) == len(song)
    assert lag(y[:, 0], song) == 0


def test_stereo_keeps_channels():
    x = music(1.0, 44100, channels=2)
    y, _ = decode_mp3(encode_mp3(x, 44100, 128))
    assert y.shape == x.shape
    assert lag(y[:, 1], x[:, 1]) == 0


def test_constant_bitrate(song):
    stream = encode_mp3(song, 22050, 32)
    rates = {f.bitrate for f in codec._frames(stream)[1:]}
    assert rates == {32}

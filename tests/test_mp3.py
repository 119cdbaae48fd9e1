import numpy as np
import pytest

from conftest import music
from spectral_enhance.audio import decode, mp3
from spectral_enhance.audio.mp3 import encode_mp3, id3v2_end, parse_itunsmpb, read_gapless_info


def lag(decoded: np.ndarray, original: np.ndarray, search: int = 2000) -> int:
    """Offset of ``original`` inside ``decoded`` by cross-correlation (0 = aligned)."""
    a = np.pad(decoded[: 4 * search + 8000], (search, 0))
    b = original[search : search + 8000]
    return int(np.argmax(np.correlate(a, b, "valid"))) - 2 * search


def untagged(stream: bytes) -> bytes:
    """The stream without its first (Info) frame."""
    return stream[mp3._frames(stream)[0].size :]


@pytest.mark.parametrize("rate", [22050, 44100, 48000])
@pytest.mark.parametrize("bitrate", [32, 64, 128])
def test_round_trip_is_aligned_and_exact_length(rate, bitrate):
    x = music(1.7, rate, seed=bitrate)
    decoded = decode(encode_mp3(x, rate, bitrate))
    assert decoded.sample_rate == rate and decoded.info.trim == "LAME tag"
    assert decoded.samples.shape == (len(x), 1)
    assert lag(decoded.samples[:, 0], x) == 0
    residual = x - decoded.samples[:, 0]
    assert 10 * np.log10(np.sum(x**2) / np.sum(residual**2)) > 5  # it is the same music


def test_untagged_mp3_skips_the_standard_delay_and_keeps_its_tail(song):
    stream = untagged(encode_mp3(song, 22050, 64))
    assert read_gapless_info(stream) is None
    decoded = decode(stream)
    assert decoded.info.trim == "standard MP3 delay"
    assert lag(decoded.samples[:, 0], song) == 0
    frames = len(mp3._frames(stream))
    assert len(decoded.samples) == frames * 576 - mp3.ENCODER_DELAY - mp3.DECODER_DELAY


def test_tag_records_delay_and_length(song):
    info = read_gapless_info(encode_mp3(song, 22050, 32))
    assert info.delay == mp3.ENCODER_DELAY
    assert info.length == len(song)
    assert info.start == 1105


@pytest.mark.parametrize("tag_bytes", [100, 70_000, 3_000_000])
def test_tag_is_found_after_an_id3v2_tag_of_any_size(song, tag_bytes):
    size = tag_bytes - 10
    syncsafe = bytes([(size >> 21) & 127, (size >> 14) & 127, (size >> 7) & 127, size & 127])
    id3 = b"ID3\x03\x00\x00" + syncsafe + bytes(size)
    stream = id3 + encode_mp3(song, 22050, 64)
    assert id3v2_end(stream) == tag_bytes
    decoded = decode(stream)
    assert decoded.info.trim == "LAME tag" and len(decoded.samples) == len(song)
    assert lag(decoded.samples[:, 0], song) == 0


def test_junk_before_the_first_frame_is_skipped(song):
    junk = bytes(np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8))
    decoded = decode(junk + encode_mp3(song, 22050, 64))
    assert decoded.info.trim == "LAME tag" and len(decoded.samples) == len(song)
    assert lag(decoded.samples[:, 0], song) == 0


def test_itunsmpb_fields():
    info = parse_itunsmpb(" 00000000 00000240 000003C0 0000000000015888 00000000 00000000")
    assert (info.delay, info.length, info.source) == (576, 0x15888, "iTunSMPB")
    assert info.start == 576 + 529
    assert parse_itunsmpb("not hex at all") is None
    assert parse_itunsmpb("") is None


def test_constant_bitrate(song):
    stream = encode_mp3(song, 22050, 32)
    rates = {f.bitrate for f in mp3._frames(stream)[1:]}
    assert rates == {32}


def test_stereo_keeps_channels():
    x = music(1.0, 44100, channels=2)
    decoded = decode(encode_mp3(x, 44100, 128))
    assert decoded.samples.shape == x.shape
    assert lag(decoded.samples[:, 1], x[:, 1]) == 0


@pytest.mark.parametrize(
    ("options", "recorded"),
    [
        (["-b", "64"], 11_000.0),
        (["-b", "128"], 17_000.0),
        (["-b", "160"], 17_500.0),
        (["-b", "256"], 19_700.0),
        (["-V", "2"], 18_500.0),
    ],
)
def test_the_filter_lames_tag_records_is_read(tmp_path, options, recorded):
    """Debian's ``lame`` records the low-pass filter it chose in its tag (`AudioInfo.
    encoder_lowpass`), which says where a band ending under it was cut: in the master. Its
    stereo CBR choices are `LAME_CBR_FILTER`'s."""
    from audio_tools import run, source, write_wav
    from spectral_enhance.audio import open_audio

    wav = write_wav(tmp_path / "src.wav", source(2.0, 44100, channels=2), 44100)
    path = tmp_path / "x.mp3"
    run("lame", "--quiet", "--add-id3v2", "--tt", "A title", *options, wav, path)
    with open_audio(path) as reader:
        assert reader.info.encoder_lowpass == recorded
    if options[0] == "-b" and int(options[1]) in mp3.LAME_CBR_FILTER:
        assert mp3.LAME_CBR_FILTER[int(options[1])] == recorded


def test_the_kind_of_xing_header_is_read(tmp_path):
    """`AudioInfo.mp3_tag`: ``Info`` for a constant bitrate (LAME's CBR, and FFmpeg's muxer's
    for any CBR stream, libshine's too), ``Xing`` for VBR and ABR; none in LAME's 32 kbps file
    (16 kHz: frames too short for one) or a WAV."""
    from audio_tools import run, source, write_wav
    from spectral_enhance.audio import open_audio

    wav = write_wav(tmp_path / "src.wav", source(2.0, 44100, channels=2), 44100)
    made = {
        "cbr": ["lame", "--quiet", "-b", "96", wav],
        "vbr": ["lame", "--quiet", "-V", "5", wav],
        "abr": ["lame", "--quiet", "--abr", "96", wav],
        "ffmpeg-cbr": ["ffmpeg", "-v", "error", "-i", wav, "-b:a", "96k"],
        "ffmpeg-vbr": ["ffmpeg", "-v", "error", "-i", wav, "-q:a", "5"],
        "shine": ["ffmpeg", "-v", "error", "-i", wav, "-c:a", "libshine", "-b:a", "96k"],
        "lame-32": ["lame", "--quiet", "-b", "32", wav],
    }
    found = {}
    for name, command in made.items():
        path = tmp_path / f"{name}.mp3"
        run(*command, path)
        with open_audio(path) as reader:
            found[name] = reader.info.mp3_tag
    with open_audio(wav) as reader:
        found["wav"] = reader.info.mp3_tag
    assert found == {
        "cbr": "Info",
        "vbr": "Xing",
        "abr": "Xing",
        "ffmpeg-cbr": "Info",
        "ffmpeg-vbr": "Xing",
        "shine": "Info",
        "lame-32": None,
        "wav": None,
    }


def test_ffmpegs_lame_filter_is_lames_own_choice_for_stereo_cbr(tmp_path):
    """FFmpeg's libmp3lame records no filter, but at stereo CBR it used LAME's own choice
    (`LAME_CBR_FILTER`); of its VBR, its mono, its 32 kHz streams and libshine's (no filter
    at all) none is known; nor of ``lame`` at 32 kbps (16 kHz: its frames too short for a
    tag), ``encode_mp3``'s tag, or a WAV."""
    from audio_tools import run, source, write_wav
    from spectral_enhance.audio import open_audio

    x = source(2.0, 44100, channels=2)
    wav = write_wav(tmp_path / "src.wav", x, 44100)
    known = {"128k": 17_000.0, "160k": 17_500.0}
    unknown = {
        "vbr": ["-q:a", "2"],
        "mono": ["-ac", "1", "-b:a", "128k"],
        "32k": ["-ar", "32000", "-b:a", "128k"],
        "shine": ["-c:a", "libshine", "-b:a", "160k"],
    }
    found = {}
    for name, options in [*((k, ["-b:a", k]) for k in known), *unknown.items()]:
        path = tmp_path / f"{name}.mp3"
        command = ["ffmpeg", "-v", "error", "-i", wav, "-c:a", "libmp3lame", *options, path]
        run(*command)
        with open_audio(path) as reader:
            found[name] = reader.info.encoder_lowpass
    lame32, ours = tmp_path / "l.mp3", tmp_path / "o.mp3"
    run("lame", "--quiet", "-b", "32", wav, lame32)
    ours.write_bytes(encode_mp3(x, 44100, 160))
    for path in (lame32, ours, wav):
        with open_audio(path) as reader:
            found[path.name] = reader.info.encoder_lowpass
    assert found == {
        **known,
        **dict.fromkeys(unknown),
        "l.mp3": None,
        "o.mp3": None,
        "src.wav": None,
    }

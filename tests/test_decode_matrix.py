"""The input module against files other tools made (issue 11's correctness matrix).

Every file is encoded here, from a noise-like source written as 16-bit WAV, by Debian's
``ffmpeg`` (libmp3lame), the ``lame`` CLI, ``sox``, ``lameenc`` or our own tagged writer, and
decoded with :func:`spectral_enhance.audio.decode`. The rules checked are audio/read.py's: with a
LAME tag (or ``iTunSMPB``) the source's exact length at lag 0; without, the full decode less its
first 1,105 samples (which is FFmpeg's untrimmed decode shifted by 1,105, and lag 0 for LAME).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from mutagen.apev2 import APEv2
from mutagen.id3 import APIC, COMM, ID3, TIT2

from audio_tools import (
    ffmpeg_decode,
    lag,
    lame_decode,
    lameenc_mp3,
    other_encoder_mp3,
    run,
    similarity,
    source,
    with_loud_granule,
    without_info_frame,
    write_wav,
)
from spectral_enhance.audio import AudioError, decode, mp3, resample
from spectral_enhance.audio.mp3 import encode_mp3

SECONDS = 1.0
STANDARD_DELAY = 576 + 529  # what decode.py removes from an MP3 that has no tag


def encode(folder: Path, tool: str, x: np.ndarray, rate: int, *options: str) -> Path:
    """``x`` encoded at ``rate`` by ``tool`` (ffmpeg, lame, lameenc or own) into folder/test.mp3.

    ffmpeg and lame are told the output rate, so LAME does not pick a lower one at low bitrates.
    For lameenc and own, ``options`` is the bitrate.
    """
    wav = write_wav(folder / "source.wav", x, rate)
    out = folder / "test.mp3"
    if tool == "ffmpeg":
        codec = ("-c:a", "libmp3lame", "-ar", str(rate))
        run("ffmpeg", "-v", "error", "-y", "-i", wav, *codec, *options, out)
    elif tool == "lame":
        run("lame", "--quiet", "--resample", f"{rate / 1000:g}", *options, wav, out)
    elif tool == "lameenc":
        out.write_bytes(lameenc_mp3(x, rate, int(options[0])))
    else:
        out.write_bytes(encode_mp3(x if x.shape[1] > 1 else x[:, 0], rate, int(options[0])))
    return out


def spf(rate: int) -> int:
    """Samples per layer III frame at ``rate``: 1,152 for MPEG-1, 576 for MPEG-2 and 2.5."""
    return 1152 if rate >= 32000 else 576


def info_frame(path: Path) -> bool:
    """Whether the MP3 at ``path`` (no ID3v2 tag) starts with a Xing or Info frame."""
    head = path.read_bytes()[:200]
    return b"Xing" in head or b"Info" in head


def independent_decode(path: Path, channels: int, rate: int, tagged: bool) -> np.ndarray:
    """Debian FFmpeg's decode of ``path``: trimmed by a LAME tag, else whole.

    At 24 kHz, LAME's decoder instead: Debian 12's FFmpeg 5.1 decodes MPEG-2 at 24 kHz
    differently (0.07 dB less SNR) from both LAME and the FFmpeg PyAV bundles. LAME removes the
    decoder's 529 samples from a tag-less file itself; they are put back as zeros.
    """
    if rate != 24000:
        return ffmpeg_decode(path, channels)
    decoded = lame_decode(path)
    return decoded if tagged else np.pad(decoded, [(529, 0), (0, 0)])


def check_mp3(
    path: Path, x: np.ndarray, rate: int, tagged: bool, reference: np.ndarray | None = None
) -> None:
    """``path`` decodes by the documented rule, aligned with ``x`` and equal to FFmpeg's decode.

    ``reference``: FFmpeg's decode of the same audio without what the test added (else of
    ``path`` itself). FFmpeg trims a LAME-tagged file as we do and leaves a tag-less one whole.
    """
    decoded = decode(path)
    channels = x.shape[1]
    full = independent_decode(path, channels, rate, tagged) if reference is None else reference
    assert decoded.sample_rate == rate and decoded.info.container == "mp3"
    assert decoded.warnings == []
    if tagged:
        assert decoded.info.trim == "LAME tag"
        assert decoded.info.expected == len(x)
        assert decoded.samples.shape == x.shape
        expected = full
    else:
        assert decoded.info.trim == "standard MP3 delay" and decoded.info.expected is None
        assert len(full) % spf(rate) == 0  # a whole number of frames, the padded tail kept
        expected = full[STANDARD_DELAY:]
    assert decoded.samples.shape == expected.shape
    np.testing.assert_allclose(decoded.samples, expected, atol=1e-4)
    for c in range(channels):
        assert lag(decoded.samples[:, c], x[:, c]) == 0, f"channel {c}"
        assert similarity(decoded.samples[:, c], x[:, c]) > 0.3, f"channel {c}"


# Encoder x tag: (tool, options, whether the file has a LAME tag), at 44.1 kHz stereo.
ENCODERS = [
    ("lameenc", ("128",), False),
    ("own", ("128",), True),
    ("ffmpeg", ("-b:a", "128k"), True),
    ("ffmpeg", ("-b:a", "128k", "-write_xing", "0"), False),
    ("ffmpeg", ("-q:a", "4"), True),
    ("ffmpeg", ("-q:a", "4", "-write_xing", "0"), False),
    ("lame", ("-b", "128"), True),
    ("lame", ("-V", "2"), True),
    ("lame", ("-b", "128", "-t"), False),
    ("lame", ("-V", "2", "-t"), False),
    ("lame", ("-b", "128", "-p"), True),  # a CRC in every frame
    ("lame", ("--abr", "96"), True),
    ("lame", ("-b", "96", "--nores"), True),  # no bit reservoir
    ("lame", ("-b", "128", "-m", "d"), True),  # dual channel
]


@pytest.mark.parametrize(("tool", "options", "tagged"), ENCODERS, ids=str)
def test_encoders_with_and_without_a_tag(tmp_path, tool, options, tagged):
    x = source(SECONDS, 44100, 2, seed=1)
    check_mp3(encode(tmp_path, tool, x, 44100, *options), x, 44100, tagged)


# Every MPEG version's rates, each at bitrates from the lowest to the highest it allows.
RATES = {
    8000: (8, 32, 64),
    11025: (8, 32, 64),
    12000: (8, 32, 64),
    16000: (8, 64, 160),
    22050: (8, 64, 160),
    24000: (8, 64, 160),
    32000: (32, 128, 320),
    44100: (32, 128, 320),
    48000: (32, 128, 320),
}
RATE_BITRATES = [(rate, bitrate) for rate, bitrates in RATES.items() for bitrate in bitrates]


@pytest.mark.parametrize(("rate", "bitrate"), RATE_BITRATES)
def test_lame_cli_at_every_rate_and_bitrate(tmp_path, rate, bitrate):
    x = source(SECONDS, rate, 1, seed=rate + bitrate)
    path = encode(tmp_path, "lame", x, rate, "-b", str(bitrate), "-m", "m")
    # LAME writes no tag when a frame at the bitrate cannot hold it (here below 64 kbps at
    # MPEG-2 and 2.5 rates): such a file is tag-less, and the 1,105 rule applies.
    tagged = info_frame(path)
    assert tagged or bitrate < 64
    check_mp3(path, x, rate, tagged)


@pytest.mark.parametrize("rate", list(RATES))
@pytest.mark.parametrize("tool", ["ffmpeg", "lameenc", "own", "lame"])
def test_every_rate_with_and_without_a_tag(tmp_path, rate, tool):
    """Stereo at each rate: tag-less CBR (ffmpeg without Xing, lameenc), tagged CBR (ours),
    tagged VBR (lame -V 4)."""
    x = source(SECONDS, rate, 2, seed=rate)
    bitrate = RATES[rate][1]
    options = {
        "ffmpeg": ("-b:a", f"{bitrate}k", "-write_xing", "0"),
        "lame": ("-V", "4"),
    }.get(tool, (str(bitrate),))
    path = encode(tmp_path, tool, x, rate, *options)
    check_mp3(path, x, rate, tagged=tool in ("own", "lame"))


MODES = {0: "stereo", 1: "joint stereo", 3: "mono"}  # a frame header's channel mode bits
CHANNEL_MODES = [
    ("lame", "mono", ("-b", "96", "-m", "m")),
    ("lame", "stereo", ("-b", "128", "-m", "s")),
    ("lame", "joint stereo", ("-b", "128", "-m", "j")),
    ("lame", "joint stereo", ("-V", "6", "-m", "j")),
    ("ffmpeg", "mono", ("-b:a", "96k", "-ac", "1")),
    ("ffmpeg", "stereo", ("-b:a", "128k", "-joint_stereo", "0")),
    ("ffmpeg", "joint stereo", ("-b:a", "128k", "-joint_stereo", "1")),
]


@pytest.mark.parametrize(("tool", "mode", "options"), CHANNEL_MODES, ids=str)
def test_mono_stereo_and_joint_stereo_keep_their_channels(tmp_path, tool, mode, options):
    channels = 1 if mode == "mono" else 2
    x = source(SECONDS, 44100, channels, seed=channels)
    path = encode(tmp_path, tool, x, 44100, *options)
    data = path.read_bytes()
    audio_frames = mp3._frames(data)[1:]  # after the Info frame, whose mode FFmpeg sets apart
    assert {MODES[data[f.offset + 3] >> 6] for f in audio_frames} == {mode}
    check_mp3(path, x, 44100, tagged=True)
    if channels == 2:  # the channels are not swapped or mixed: each resembles its own source
        y = decode(path).samples
        assert similarity(y[:, 0], x[:, 0]) > 2 * abs(similarity(y[:, 0], x[:, 1]))
        assert similarity(y[:, 1], x[:, 1]) > 2 * abs(similarity(y[:, 1], x[:, 0]))


def id3v2_tag(size: int) -> bytes:
    """A hand-made ID3v2.3 tag of exactly ``size`` bytes: a title frame and zero padding."""
    frame = b"TIT2" + (6).to_bytes(4, "big") + b"\0\0" + b"\0title"
    body = frame + bytes(size - 10 - len(frame))
    n = len(body)
    return b"ID3\3\0\0" + bytes([n >> 21 & 127, n >> 14 & 127, n >> 7 & 127, n & 127]) + body


def junk(size: int, seed: int) -> bytes:
    """Random bytes, not starting like an ID3 tag."""
    return b"J" + np.random.default_rng(seed).integers(0, 256, size - 1, np.uint8).tobytes()


def add_tags(path: Path, kind: str, folder: Path) -> None:
    """Add ``kind`` of metadata (or junk) to the MP3 at ``path``, in place."""
    if kind == "id3v2 3 MB picture":
        tags = ID3()
        tags.add(TIT2(encoding=3, text="A song"))
        cover = np.random.default_rng(0).integers(0, 256, 3_000_000, np.uint8).tobytes()
        tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="cover", data=cover))
        tags.save(path, v2_version=3)
    elif kind == "id3v2 cover by ffmpeg":
        cover = folder / "cover.png"
        red = ("-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1")
        run("ffmpeg", "-v", "error", *red, cover)
        out = folder / "with-cover.mp3"
        run("ffmpeg", "-v", "error", "-i", path, "-i", cover, "-map", "0", "-map", "1",
            "-c", "copy", "-id3v2_version", "3", out)  # fmt: skip
        out.replace(path)
    elif kind == "id3v1":
        tags = ID3()
        tags.add(TIT2(encoding=3, text="A song"))
        tags.save(path, v1=2)
    elif kind == "ape":
        tags = APEv2()
        tags["Title"] = "A song"
        tags.save(path)
    elif kind == "id3v2, ape and id3v1":
        add_tags(path, "ape", folder)
        add_tags(path, "id3v1", folder)
    elif kind == "junk":
        path.write_bytes(junk(5000, 1) + path.read_bytes())
    elif kind == "id3v2 then junk":
        path.write_bytes(id3v2_tag(70_000) + junk(3000, 2) + path.read_bytes())


TAGS = [
    "id3v2 3 MB picture",
    "id3v2 cover by ffmpeg",
    "id3v1",
    "ape",
    "id3v2, ape and id3v1",
    "junk",
    "id3v2 then junk",
]


@pytest.mark.parametrize("kind", TAGS)
@pytest.mark.parametrize(
    ("tool", "options", "tagged"),
    [
        ("lame", ("-b", "128"), True),
        ("lameenc", ("128",), False),
        ("ffmpeg", ("-q:a", "4", "-write_xing", "0"), False),
    ],
)
def test_metadata_and_junk_change_nothing(tmp_path, kind, tool, options, tagged):
    x = source(SECONDS, 44100, 2, seed=3)
    path = encode(tmp_path, tool, x, 44100, *options)
    reference = ffmpeg_decode(path, 2)  # the bare file's decode: the tags must not change it
    add_tags(path, kind, tmp_path)
    check_mp3(path, x, 44100, tagged, reference)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
@pytest.mark.parametrize(
    ("tool", "options"), [("own", ("128",)), ("ffmpeg", ("-q:a", "4")), ("lame", ("-V", "2"))]
)
def test_truncated_tagged_file_decodes_what_is_there(tmp_path, tool, options, fraction):
    x = source(SECONDS, 44100, 2, seed=4)
    path = encode(tmp_path, tool, x, 44100, *options)
    data = path.read_bytes()
    path.write_bytes(data[: int(fraction * len(data))])
    decoded = decode(path)
    assert decoded.info.trim == "LAME tag" and decoded.info.expected == len(x)
    assert len(decoded.warnings) == 1
    warning = decoded.warnings[0]
    assert warning.startswith(f"{path}: ends early") and "\n" not in warning
    # What decodes, not padded: FFmpeg's decode (trimmed at the start by the tag) to the end.
    reference = ffmpeg_decode(path, 2)
    assert decoded.samples.shape == reference.shape
    assert len(decoded.samples) < len(x) * (fraction + 0.1)
    np.testing.assert_allclose(decoded.samples, reference, atol=1e-4)
    assert lag(decoded.samples[:, 0], x[:, 0]) == 0
    missing = len(x) - len(decoded.samples)
    assert f"{missing} samples missing" in warning


@pytest.mark.parametrize(
    ("tool", "container"),
    [("wav", "wav"), ("sox-flac", "flac"), ("ffmpeg-flac", "flac"), ("sox-ogg", "ogg")],
)
def test_other_formats_named_mp3_are_decoded_as_what_they_are(tmp_path, tool, container):
    x = source(SECONDS, 44100, 2, seed=5)
    wav = write_wav(tmp_path / "source.wav", x, 44100)
    path = tmp_path / "not-really.mp3"
    if tool == "wav":
        path.write_bytes(wav.read_bytes())
    elif tool == "ffmpeg-flac":
        run("ffmpeg", "-v", "error", "-i", wav, "-f", "flac", path)
    else:
        run("sox", wav, "-t", container, path)
    decoded = decode(path)
    assert decoded.info.container == container and decoded.info.trim == "none"
    assert decoded.warnings == []
    if container == "ogg":  # lossy: the same length and alignment, not the same samples
        assert decoded.samples.shape == x.shape
        assert lag(decoded.samples[:, 0], x[:, 0]) == 0
        assert similarity(decoded.samples[:, 0], x[:, 0]) > 0.6
    else:
        np.testing.assert_array_equal(decoded.samples, x)


@pytest.mark.parametrize("base", ["lameenc", "lame -t"])
def test_itunsmpb_without_a_lame_tag_is_exact(tmp_path, base):
    x = source(SECONDS, 44100, 2, seed=6)
    path = tmp_path / "test.mp3"
    if base == "lameenc":
        path.write_bytes(without_info_frame(encode_mp3(x, 44100, 128)))
    else:
        encode(tmp_path, "lame", x, 44100, "-b", "128", "-t")
    assert not info_frame(path)
    frames = len(ffmpeg_decode(path, 2)) // 1152  # FFmpeg decodes a tag-less file whole
    padding = frames * 1152 - 576 - len(x)
    tags = ID3()
    smpb = f" 00000000 00000240 {padding:08X} {len(x):016X}" + " 00000000" * 8
    tags.add(COMM(encoding=0, lang="eng", desc="iTunSMPB", text=smpb))
    tags.save(path, v2_version=3)
    decoded = decode(path)
    assert decoded.info.trim == "iTunSMPB" and decoded.info.expected == len(x)
    assert decoded.samples.shape == x.shape and decoded.warnings == []
    assert lag(decoded.samples[:, 0], x[:, 0]) == 0 and lag(decoded.samples[:, 1], x[:, 1]) == 0


@pytest.mark.parametrize("rate", [32000, 44100, 48000])
def test_a_libshine_mp3_starts_after_libshine_s_own_delay(tmp_path, rate):
    """FFmpeg's libshine writes a tag whose delay and padding are 0 (encoder ``Lavc``; a remux
    of a tag-less file, also 0, names ``Lavf`` and keeps the standard delay: the metadata
    matrix). The decode starts after libshine's delay, at lag 0 against the source, and is
    FFmpeg's own (which skips the decoder's 529 samples only) less those samples."""
    x = source(SECONDS, rate, 2)
    wav = write_wav(tmp_path / "source.wav", x, rate)
    path = other_encoder_mp3(wav, tmp_path / "shine.mp3", "libshine", 128)
    decoded = decode(path)
    assert decoded.info.trim == "libshine's delay" and decoded.warnings == []
    full = ffmpeg_decode(path, 2)
    assert decoded.info.expected == len(full) - mp3.SHINE_DELAY
    np.testing.assert_allclose(decoded.samples, full[mp3.SHINE_DELAY :], atol=1e-4)
    for c in range(2):
        assert lag(decoded.samples[:, c], x[:, c]) == 0, f"channel {c}"
        assert similarity(decoded.samples[:, c], x[:, c]) > 0.3, f"channel {c}"


def test_aac_in_m4a_is_aligned_by_its_edit_list(tmp_path):
    x = source(SECONDS, 44100, 2, seed=7)
    wav = write_wav(tmp_path / "source.wav", x, 44100)
    path = tmp_path / "test.m4a"
    run("ffmpeg", "-v", "error", "-i", wav, "-c:a", "aac", "-b:a", "128k", path)
    decoded = decode(path)
    assert decoded.info.codec == "aac" and decoded.info.trim == "MP4 edit list"
    # FFmpeg's edit list removes the encoder's 1,024 priming samples (aligned to the sample),
    # but its decode keeps the last frame's padding (the source's length rounded up to 1,024,
    # a gap between gapless tracks): ours ends where the edit list says, the source's length.
    full = ffmpeg_decode(path, 2)
    assert len(full) > len(x) and decoded.info.expected == len(x) == len(decoded.samples)
    np.testing.assert_allclose(decoded.samples, full[: len(x)], atol=1e-4)
    assert decoded.warnings == []
    assert lag(decoded.samples[:, 0], x[:, 0]) == 0
    assert similarity(decoded.samples[:, 0], x[:, 0]) > 0.6


@pytest.mark.parametrize(
    ("suffix", "codec", "kbps"), [("aac", "aac", "64k"), ("eac3", "eac3", "96k")]
)
def test_a_raw_stream_s_guessed_length_is_not_taken_for_a_promise(tmp_path, suffix, codec, kbps):
    """FFmpeg guesses a raw ADTS or E-AC-3 stream's length from its first bit rate (an ADTS
    file that starts silent: three times its length); a whole file does not end early."""
    x = source(4.0, 44100, 2, seed=7)
    x[:44100] = 0
    wav = write_wav(tmp_path / "source.wav", x, 44100)
    path = tmp_path / f"test.{suffix}"
    run("ffmpeg", "-v", "error", "-i", wav, "-c:a", codec, "-b:a", kbps, path)
    decoded = decode(path)
    if codec == "aac":
        guess = av.open(str(path)).streams.audio[0]
        assert float(guess.duration * guess.time_base) > 2 * 4.0
    assert decoded.info.expected is None and decoded.warnings == []
    np.testing.assert_allclose(decoded.samples, ffmpeg_decode(path, 2), atol=1e-4)


def test_a_frame_damaged_far_over_full_scale_is_silenced_and_named(tmp_path):
    """A ``lame`` file whose 40th frame's first granule has its global gain set to 255, damage
    the decoder lets through: FFmpeg's own decode puts that stretch thousands of times over
    full scale. We decode the frames it spoils as silence and say where; the rest is the
    clean file's decode, sample for sample."""
    clean = encode(tmp_path, "lame", source(2.0, 44100, 2), 44100, "-b", "128")
    damaged = tmp_path / "damaged.mp3"
    damaged.write_bytes(with_loud_granule(clean.read_bytes(), 40))
    assert np.abs(ffmpeg_decode(damaged, 2)).max() > 1000
    ours, reference = decode(damaged), decode(clean).samples
    assert ours.warnings == [
        f"{damaged}: 2 frame(s) decoded to over 8 times full scale (damage?) replaced by "
        "silence (at 1.02, 1.04 s)"
    ]
    silent = np.all(ours.samples == 0, axis=1)
    assert silent.sum() == 2 * 1152
    np.testing.assert_array_equal(ours.samples[~silent], reference[~silent])
    assert np.abs(reference[silent]).max() > 0.01  # music was there


@pytest.mark.parametrize("broken", [1, 2, 3])
def test_frames_run_together_by_damage_keep_the_time_of_what_follows(tmp_path, broken):
    """A ``lame`` CBR file with the headers of frames 40 on broken: FFmpeg's parser hands those
    frames and the next over as fewer packets than frames, which its decoder rejects. They
    become silence of the frames their bytes held, so the rest comes at its time, to the
    sample, and the file keeps its length."""
    clean = encode(tmp_path, "lame", source(4.0, 44100, 2), 44100, "-b", "128")
    data = bytearray(clean.read_bytes())
    start = mp3.id3v2_end(bytes(data))
    frames = mp3._frames(bytes(data[start:]))
    for frame in frames[40 : 40 + broken]:
        data[start + frame.offset : start + frame.offset + 2] = b"\0\0"
    damaged = tmp_path / "damaged.mp3"
    damaged.write_bytes(bytes(data))
    ours, reference = decode(damaged), decode(clean).samples
    assert len(ours.samples) == len(reference)
    (warning,) = ours.warnings
    assert f"{damaged}: " in warning and "damaged packet(s) skipped, replaced by silence" in warning
    tail = slice(2 * 44100, None)  # after the damage, near 1.05 s
    assert lag(ours.samples[tail, 0], reference[tail, 0]) == 0
    np.testing.assert_array_equal(ours.samples[tail], reference[tail])


def test_a_tag_between_files_joined_is_not_taken_for_lost_audio(tmp_path):
    """The second of two ``lame`` files joined by ``cat`` carries an ID3v2 tag with 20 KB of
    cover art, which FFmpeg's decoder rejects as damage: it holds no audio, so at most the
    second's Info frame behind it becomes silence, not 20 KB's worth of frames."""
    first, second, _ = joined_files(tmp_path, 44100, "128")
    tags = ID3()
    cover = np.random.default_rng(0).integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="cover", data=cover))
    tags.save(second)
    joined = tmp_path / "joined-tagged.mp3"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    ours = decode(joined)
    assert any("damaged packet(s)" in warning for warning in ours.warnings)
    assert 0 <= len(ours.samples) - len(ffmpeg_decode(joined, 2)) <= 1152


def test_a_free_format_mp3_is_refused_in_one_line_as_ffmpeg_cannot_read_it(tmp_path):
    """``lame --freeformat`` (no bitrate in the headers): FFmpeg's own CLI decodes almost none
    of it, and ``decode`` says so in one line rather than giving silence with a warning."""
    wav = write_wav(tmp_path / "source.wav", source(2.0, 44100, 2), 44100)
    free = tmp_path / "free.mp3"
    run("lame", "--quiet", "--freeformat", "-b", "400", wav, free)
    ffmpeg = ["ffmpeg", "-v", "quiet", "-i", free, "-f", "f32le", "-"]
    theirs = subprocess.run(ffmpeg, check=False, capture_output=True)
    assert len(theirs.stdout) < 0.1 * 2.0 * 44100 * 2 * 4  # under a tenth of the 2 s
    assert mp3.free_format(free.read_bytes()[:4096])
    with pytest.raises(AudioError, match=r"free.mp3: free-format MP3 \(no bitrate in its frame"):
        decode(free)
    ordinary = encode(tmp_path, "lame", source(2.0, 44100, 2), 44100, "-b", "128")
    assert not mp3.free_format(ordinary.read_bytes()[:4096])


def joined_files(folder: Path, rate: int, kbps: str) -> tuple[Path, Path, Path]:
    """A 2 s 44.1 kHz 128 kbps ``lame`` file, a 3 s one at ``rate`` and ``kbps``, and the two
    joined by ``cat``."""
    first = encode(folder, "lame", source(2.0, 44100, 2, seed=1), 44100, "-b", "128")
    first = first.rename(folder / "first.mp3")
    second = encode(folder, "lame", source(3.0, rate, 2, seed=2), rate, "-b", kbps)
    joined = folder / "joined.mp3"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    return first, second, joined


def test_two_lame_files_joined_end_to_end_are_decoded_whole_and_named(tmp_path):
    """Two ``lame`` files joined by ``cat`` (as many joiners do): the first one's LAME tag
    promises only its own length. The first file comes out as it alone does, gapless; the
    second follows, untrimmed, as FFmpeg's own decode has it; a warning says so."""
    first, second, joined = joined_files(tmp_path, 44100, "128")
    ours, alone = decode(joined), decode(first).samples
    assert len(ours.samples) == len(ffmpeg_decode(joined, 2))
    np.testing.assert_array_equal(ours.samples[: len(alone)], alone)
    [warning] = ours.warnings
    assert f"{joined}: goes on 3.0" in warning
    assert "past the 2.00 s its LAME tag promises (files joined?)" in warning
    rest, after = decode(second).samples[:, 0], ours.samples[len(alone) :, 0]
    shift = lag(after, rest, search=4000)  # the second's delay and Info frame, untrimmed
    assert 0 < shift < 4000 and similarity(after[shift:], rest) > 0.99
    # One file alone keeps its tag's length: its last frame's padding is not "more audio".
    assert decode(second).warnings == [] and len(rest) == 3 * 44100


def test_files_of_two_rates_joined_keep_the_second_resampled(tmp_path):
    """A 44.1 kHz ``lame`` file and a 22.05 kHz one joined by ``cat``: the second's frames, at
    another rate, are more audio, resampled to the first's as FFmpeg's own decode does, not
    silence; the warnings say so."""
    first, second, joined = joined_files(tmp_path, 22050, "64")
    ours, alone = decode(joined), decode(first).samples
    assert abs(len(ours.samples) - len(ffmpeg_decode(joined, 2))) <= 2
    np.testing.assert_array_equal(ours.samples[: len(alone)], alone)
    assert any(
        "1 stretch(es) at another sample rate (files joined?) resampled to 44100 Hz (from 2.0" in w
        and "at 22050 Hz" in w
        for w in ours.warnings
    )
    rest = resample(decode(second).samples, 22050, 44100)[:, 0]
    after = ours.samples[len(alone) :, 0]
    shift = lag(after, rest, search=8000)
    assert 0 < shift < 8000 and similarity(after[shift:], rest) > 0.98


@pytest.mark.parametrize(
    ("encoding", "cut"),
    [(["-b", "16"], 0.5), (["-b", "24"], 0.5), (["-e", "floating-point", "-b", "32"], 0.3)],
)
def test_a_wav_cut_short_says_how_long_its_header_promised(tmp_path, encoding, cut):
    """FFmpeg fits a cut WAV's length to what the file holds; its ``data`` chunk still says the
    whole, so the warning gives it (SoX's WAVs, cut mid-sample too). A whole one warns of
    nothing, and neither does an MP3 in a WAV, whose chunk's size is bytes, not frames."""
    whole = tmp_path / "whole.wav"
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", *encoding, whole, "synth", "4",
                    "sine", "440"], check=True)  # fmt: skip
    assert decode(whole).warnings == []
    data = whole.read_bytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(data[: int(cut * len(data)) + 1])
    decoded = decode(path)
    assert decoded.info.expected == 4 * 44100
    (warning,) = decoded.warnings
    held = len(decoded.samples) / 44100
    assert warning.startswith(f"{path}: ends early: decoded {held:.2f} s of the 4.00 s its header")
    mp3 = tmp_path / "mp3.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-i", whole, "-c:a", "libmp3lame", "-f", "wav", mp3],
                   check=True)  # fmt: skip
    assert decode(mp3).info.expected != len(mp3.read_bytes())


@pytest.mark.parametrize("container", ["w64", "caf"])
@pytest.mark.parametrize("encoding", [["-b", "16"], ["-e", "floating-point", "-b", "32"]])
def test_a_w64_or_caf_cut_short_says_how_long_its_header_promised(tmp_path, container, encoding):
    """As a WAV's: FFmpeg fits a cut Wave64's or CAF's length to what it holds (a W64 cut went
    unnamed, a CAF's warning said 1 sample of its own cut length); Wave64's data chunk and
    CAF's frame count still say the whole. A CAF streamed to a pipe promises no length."""
    whole = tmp_path / f"whole.{container}"
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", *encoding, whole, "synth", "4",
                    "sine", "440"], check=True)  # fmt: skip
    assert decode(whole).warnings == []
    data = whole.read_bytes()
    path = tmp_path / f"cut.{container}"
    path.write_bytes(data[: len(data) // 2 + 1])
    decoded = decode(path)
    assert decoded.info.expected == 4 * 44100
    (warning,) = decoded.warnings
    held = len(decoded.samples) / 44100
    assert held < 2.1
    assert warning.startswith(f"{path}: ends early: decoded {held:.2f} s of the 4.00 s its header")
    piped = subprocess.run(["ffmpeg", "-v", "error", "-i", whole, "-f", "caf", "-"],
                           check=True, capture_output=True).stdout  # fmt: skip
    streamed = tmp_path / "streamed.caf"
    streamed.write_bytes(piped[: len(piped) // 2 + 1])
    assert decode(streamed).info.expected is None and decode(streamed).warnings == []


def test_bytes_past_the_data_chunk_that_its_header_does_not_count_are_named(tmp_path):
    """A WAV whose data chunk's size says less than it holds (a size wrapped past 4 GiB, a
    recorder stopped before it wrote it): SoX, libsndfile and FFmpeg read only what the size
    counts, and so does this reader, but no longer without a word. Chunks after the data
    (TagLib's ID3 chunk) are not such bytes. (FFmpeg refuses a Wave64 so made.)"""
    import taglib

    whole = tmp_path / "whole.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", whole, "synth", "2",
                    "sine", "440"], check=True)  # fmt: skip
    data = bytearray(whole.read_bytes())
    at = data.find(b"data") + 4
    size = int.from_bytes(data[at : at + 4], "little")
    data[at : at + 4] = (size // 2).to_bytes(4, "little")
    half = tmp_path / "half.wav"
    half.write_bytes(bytes(data))
    decoded = decode(half)
    assert len(decoded.samples) == 8000 == len(ffmpeg_decode(half, 1))
    (warning,) = decoded.warnings
    assert warning == (
        f"{half}: {size // 2:,} bytes past its data chunk that its header does not count (a "
        "size wrapped past 4 GiB, or never updated): left unread, as other readers leave them"
    )
    with taglib.File(str(whole), save_on_exit=True) as tagged:
        tagged.tags["TITLE"] = ["after the data"]
    assert whole.read_bytes().rfind(b"ID3") > whole.read_bytes().find(b"data")
    assert decode(whole).warnings == []
    odd = tmp_path / "odd.wav"  # 8-bit, an odd count: a chunk after it without the pad byte
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "8", odd, "synth", "1001s",
                    "sine", "440"], check=True)  # fmt: skip
    data = odd.read_bytes()
    at = data.find(b"data") + 4
    count = int.from_bytes(data[at : at + 4], "little")
    assert count % 2 == 1
    info = b"INFOISFT" + (4).to_bytes(4, "little") + b"sox\0"
    odd.write_bytes(data[: at + 4 + count] + b"LIST" + len(info).to_bytes(4, "little") + info)
    assert len(decode(odd).samples) == count and decode(odd).warnings == []


@pytest.mark.parametrize("rate", [44100, 48000])
def test_a_whole_alac_caf_does_not_end_early(tmp_path, rate):
    """FFmpeg's CAF demuxer counts ALAC's packets whole (4,096 frames each), the last one too,
    which the stream's own frames make shorter: a complete file warned that it ended early by
    up to a packet. It decodes as long as FFmpeg decodes it, with no warning."""
    wav = tmp_path / "src.wav"
    subprocess.run(["sox", "-n", "-r", str(rate), "-c", "2", "-b", "16", wav, "synth", "4",
                    "sine", "440"], check=True)  # fmt: skip
    caf = tmp_path / "alac.caf"
    subprocess.run(["ffmpeg", "-v", "error", "-i", wav, "-c:a", "alac", caf], check=True)
    decoded = decode(caf)
    assert decoded.warnings == []
    assert decoded.samples.shape == ffmpeg_decode(caf, 2).shape == (4 * rate, 2)


@pytest.mark.parametrize("kbps", [128, 192])
def test_an_mp3_in_a_wav_is_read_within_its_chunk(tmp_path, kbps):
    """FFmpeg's libmp3lame in a WAV (format 0x55): at 192 kbps its data chunk has an odd size,
    so a pad byte follows it. Read from its first frame to the end of the file, that byte came
    in as a damaged frame, a warning and a frame of silence; the WAV's chunk bounds it."""
    x = source(SECONDS, 44100, 2, seed=6)
    wav = write_wav(tmp_path / "src.wav", x, 44100)
    path = tmp_path / "mp3.wav"
    run("ffmpeg", "-v", "error", "-i", wav, "-c:a", "libmp3lame", "-b:a", f"{kbps}k", "-f", "wav",
        path)  # fmt: skip
    decoded = decode(path)
    assert decoded.warnings == []
    assert lag(decoded.samples[:, 0], x[:, 0]) == 0
    assert 0 <= len(decoded.samples) - len(x) < 1152  # the last frame's padding, no more


def test_a_partial_packet_at_the_end_is_left_out_not_made_silence(tmp_path):
    """SoX's GSM WAV of 3 s ends in a 1-byte packet the decoder rejects. Silence for it kept
    nothing in time (nothing follows it) and made the file 40 ms longer than FFmpeg's decode:
    it is left out, and one warning says so."""
    wav = tmp_path / "src.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", wav, "synth", "3", "sine", "440"],
                   check=True)  # fmt: skip
    gsm = tmp_path / "gsm.wav"
    subprocess.run(["sox", wav, "-e", "gsm-full-rate", gsm], check=True)
    decoded = decode(gsm)
    reference = ffmpeg_decode(gsm, 1)
    assert decoded.samples.shape == reference.shape
    np.testing.assert_allclose(decoded.samples, reference, atol=1e-3)
    assert decoded.warnings == [
        f"{gsm}: ends in 1 damaged or partial packet(s) (at 3.00 s), left out"
    ]


@pytest.mark.parametrize(
    ("tool", "kept", "problem"),
    [
        ("ffmpeg", 200, "not an audio file, or one cut off before its audio (End of file)"),
        ("sox", -1, "contains no audio samples of the 1.00 s it promises (cut off?)"),
    ],
)
def test_a_flac_cut_off_before_its_audio_says_it_may_be(tmp_path, tool, kept, problem):
    """FFmpeg's FLAC cut inside its header (in its padding block), SoX's after it, before its
    first frame: they said "not an audio file (End of file)" and "contains no audio samples",
    as of a file that never was audio."""
    x = source(SECONDS, 44100, 2, seed=9)
    wav = write_wav(tmp_path / "source.wav", x, 44100)
    whole = tmp_path / "whole.flac"
    run(*(["ffmpeg", "-v", "error", "-i"] if tool == "ffmpeg" else ["sox"]), wav, whole)
    data = whole.read_bytes()
    first_frame = data.index(b"\xff\xf8")  # a fixed-blocksize frame's sync code
    path = tmp_path / "cut.flac"
    path.write_bytes(data[: kept if kept > 0 else first_frame + 10])
    with pytest.raises(AudioError) as raised:
        decode(path)
    assert str(raised.value) == f"{path}: {problem}"


def test_a_file_of_several_audio_streams_names_those_left_out(tmp_path):
    """A Matroska file of three tracks (FFmpeg's): the first is read, as it was, and the two
    left out are named, where they were left out without a word."""
    x = source(SECONDS, 44100, 2, seed=10)
    wav = write_wav(tmp_path / "source.wav", x, 44100)
    path = tmp_path / "tracks.mka"
    maps = ["-map", "0:a", "-map", "0:a", "-map", "0:a", "-c:a", "flac"]
    run("ffmpeg", "-v", "error", "-i", wav, *maps, "-ac:a:1", "1", "-ac:a:2", "1", path)
    decoded = decode(path)
    assert decoded.warnings == [
        f"{path}: holds 3 audio streams: the first is read, 2 others left out"
    ]
    np.testing.assert_allclose(decoded.samples, x, atol=1e-4)

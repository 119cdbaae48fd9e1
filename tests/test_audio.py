import numpy as np
import pytest
import soundfile as sf

from audio_tools import run
from conftest import music
from spectral_enhance.atomic import OutputError
from spectral_enhance.audio import AudioError, find_audio, read_audio, resample, write_audio
from spectral_enhance.audio.mp3 import encode_mp3


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg"])
def test_reads_libsndfile_formats(tmp_path, suffix):
    x = music(0.5, 44100, channels=2)
    path = tmp_path / f"a{suffix}"
    sf.write(path, x, 44100)
    y, rate = read_audio(path)
    assert rate == 44100 and y.shape == x.shape and y.dtype == np.float32


def test_reads_opus(tmp_path):
    x = music(0.5, 48000, channels=2)
    sf.write(tmp_path / "a.opus", x, 48000, format="OGG", subtype="OPUS")
    y, rate = read_audio(tmp_path / "a.opus")
    assert rate == 48000 and y.shape[1] == 2 and abs(len(y) - len(x)) < 1000


def test_an_opus_files_bit_rate_is_its_mean(tmp_path):
    """Ogg gives an Opus stream no bitrate; the file's mean stands in (`AudioInfo.bit_rate`, which
    `dsp.lowpass.BITRATE_SHARE` weighs): about what libopus was asked for, not None."""
    from audio_tools import run, write_wav
    from spectral_enhance.audio import open_audio

    wav = write_wav(tmp_path / "a.wav", music(4.0, 48000, channels=2), 48000)
    run("ffmpeg", "-v", "error", "-i", wav, "-c:a", "libopus", "-b:a", "64k", tmp_path / "a.opus")
    with open_audio(tmp_path / "a.opus") as reader:
        assert 40_000 < reader.info.bit_rate < 110_000


def test_reads_mp3_aligned(tmp_path, song):
    path = tmp_path / "a.mp3"
    path.write_bytes(encode_mp3(song, 22050, 128))
    y, rate = read_audio(path)
    assert rate == 22050 and y.shape == (len(song), 1)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.wav", b"", "empty"),
        ("text.mp3", b"this is not audio at all, just text" * 20, "not an audio file"),
        ("junk.flac", bytes(range(256)) * 8, "not an audio file"),
    ],
)
def test_bad_files_raise_one_line_errors(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AudioError) as info:
        read_audio(path)
    message = str(info.value)
    assert str(path) in message and problem in message and "\n" not in message


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        read_audio(tmp_path / "nope.wav")


def test_resample_keeps_a_tone():
    t = np.arange(44100) / 44100
    x = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    y = resample(x, 44100, 22050)
    assert len(y) == 22050
    spectrum = np.abs(np.fft.rfft(y))
    assert np.argmax(spectrum) == 1000  # 1 Hz bins over one second


def test_write_clamps_or_rescales(tmp_path):
    x = np.array([0.5, 2.0, -3.0, 0.25], dtype=np.float32)
    clamped, _ = sf.read(write_audio(tmp_path / "c.wav", x, 8000, depth="float"))
    np.testing.assert_allclose(clamped, [0.5, 1.0, -1.0, 0.25])
    rescaled, _ = sf.read(write_audio(tmp_path / "r.wav", x, 8000, clip="rescale", depth="float"))
    np.testing.assert_allclose(rescaled, x / 3.0, rtol=1e-6)


def test_16_bit_samples_are_rounded_to_the_nearest_step_not_truncated(tmp_path):
    """libsndfile writes a float as the 16-bit step under it (``floor``); the writer rounds to
    the nearest, in WAV and FLAC, so a quiet signal keeps no offset of half a step, and clamps
    full scale. FFmpeg, not our reader, reads them back."""
    steps = np.array([0.3, 0.7, -0.3, -0.7, 5.5, 6.5, 100.49, -100.51, 32767.6, -32768.4])
    x = np.concatenate([steps, [1.5 * 32768]]) / 32768
    for name in ("r.wav", "r.flac"):
        path = write_audio(tmp_path / name, x, 8000, depth="16")
        got = _ffmpeg_s16(path)
        np.testing.assert_array_equal(got, [0, 1, 0, -1, 6, 6, 100, -101, 32767, -32768, 32767])
    ramp = np.linspace(-0.01, 0.01, 80_000)  # off the grid everywhere: no offset in the mean
    got = _ffmpeg_s16(write_audio(tmp_path / "ramp.wav", ramp, 8000, depth="16"))
    assert abs(np.mean(got - ramp * 32768)) < 0.01


def test_24_bit_samples_are_rounded_to_the_nearest_step_not_truncated(tmp_path):
    """libsndfile's WAV writer truncates 24-bit samples as it does 16-bit ones (its FLAC writer
    rounds); both come out at the nearest step, read back by FFmpeg, full scale clamped."""
    steps = np.array([0.3, 0.7, -0.3, -0.7, 5.5, -100.51, 4194302.75, -8388608.4, 1.5 * 2**23])
    for name in ("r.wav", "r.flac"):
        path = write_audio(tmp_path / name, steps / 2**23, 8000, depth="24")
        raw = run("ffmpeg", "-v", "error", "-i", path, "-f", "s32le", "-")
        got = np.frombuffer(raw, "<i4") >> 8
        np.testing.assert_array_equal(got, [0, 1, 0, -1, 6, -101, 4194303, -8388608, 8388607])


def _ffmpeg_s16(path):
    """``path``'s samples as FFmpeg decodes them to signed 16-bit integers."""
    raw = run("ffmpeg", "-v", "error", "-i", path, "-f", "s16le", "-")
    return np.frombuffer(raw, "<i2").astype(np.int64)


def test_write_leaves_no_temporary_file_and_never_partial(tmp_path):
    out = write_audio(tmp_path / "sub" / "x.flac", np.zeros(100), 8000)
    assert [p.name for p in out.parent.iterdir()] == ["x.flac"]
    with pytest.raises(OutputError):
        write_audio(tmp_path / "x.mp3", np.zeros(100), 8000)


def test_write_to_unwritable_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError, match="cannot write"):
        write_audio(blocker / "x.wav", np.zeros(10), 8000)


def test_find_audio_walks_folders(tmp_path):
    (tmp_path / "d" / "e").mkdir(parents=True)
    for name in ["d/a.wav", "d/e/b.MP3", "d/notes.txt", "c.flac"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "covers").mkdir()
    (tmp_path / "covers" / "front.jpg").write_bytes(b"x")
    sources = [tmp_path / "d", tmp_path / "c.flac", tmp_path / "missing.wav", tmp_path / "covers"]
    found = find_audio(sources)
    names = [p.relative_to(tmp_path).as_posix() for p in found.files]
    assert names == ["d/a.wav", "d/e/b.MP3", "c.flac", "missing.wav"]
    assert len(found.notes) == 1 and "covers: no audio files" in found.notes[0]


def test_find_audio_takes_a_file_reached_twice_once(tmp_path):
    """A file named again under another spelling, or found again through a link in a folder, is
    one file: taken where first reached, and each later way to it named."""
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.wav").write_bytes(b"x")
    (tmp_path / "d" / "z.wav").symlink_to(tmp_path / "d" / "a.wav")
    again = tmp_path / "d" / ".." / "d" / "a.wav"
    found = find_audio([tmp_path / "d", again, tmp_path / "d" / "a.wav"])
    assert found.files == [tmp_path / "d" / "a.wav"]
    assert found.notes == [
        f"{tmp_path / 'd' / 'z.wav'}: the same file as {tmp_path / 'd' / 'a.wav'}; taken once",
        f"{again}: the same file as {tmp_path / 'd' / 'a.wav'}; taken once",
        f"{tmp_path / 'd' / 'a.wav'}: given more than once; taken once",
    ]


@pytest.mark.parametrize(("rate", "channels"), [(22050, 1), (44100, 1), (48000, 2)])
def test_blocks_equal_whole_decoding_at_low_bitrate(tmp_path, rate, channels):
    from spectral_enhance.audio import open_audio

    x = music(6.0, rate, channels=channels)
    path = tmp_path / "low.mp3"
    path.write_bytes(encode_mp3(x, rate, 32))
    whole, _ = read_audio(path)
    with open_audio(path) as reader:
        parts = list(reader.blocks(block=50_000))
        assert (reader.info.sample_rate, reader.info.channels) == (rate, channels)
    assert max(len(p) for p in parts) < 60_000
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    assert len(whole) == len(x) and whole.shape[1] == channels


def test_blocks_of_other_formats_resampled_to_the_rounded_length(tmp_path):
    from spectral_enhance.audio import open_audio, resampled_length

    x = music(2.0, 44100, channels=2)
    sf.write(tmp_path / "a.flac", x, 44100, subtype="PCM_24")
    with open_audio(tmp_path / "a.flac") as reader:
        np.testing.assert_allclose(np.concatenate(list(reader.blocks(block=10_000))), x, atol=1e-6)
    with open_audio(tmp_path / "a.flac") as reader:
        y = np.concatenate(list(reader.blocks(rate=22050, block=10_000)))
    assert len(y) == resampled_length(len(x), 44100, 22050)


def test_outputs_get_ordinary_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        out = write_audio(tmp_path / "a.wav", np.zeros(10), 8000)
    finally:
        os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o644


def test_the_same_signal_gives_the_same_bytes(tmp_path):
    """Float WAVs carry no time stamp, so outputs can be compared byte for byte."""
    import time

    x = music(0.2, 22050)
    first = write_audio(tmp_path / "a.wav", x, 22050, depth="float").read_bytes()
    time.sleep(1.1)
    second = write_audio(tmp_path / "b.wav", x, 22050, depth="float").read_bytes()
    assert first == second


def test_a_wav_expected_to_pass_its_4_gib_is_rf64_and_one_not_expected_to_is_stopped(
    tmp_path, monkeypatch
):
    """A WAV's sizes are 32-bit (`scripts/long_wav_check.py` writes 5.3 GB for real). Here the
    limit is 64 KiB: told a length past half of it, the writer writes RF64, which libsndfile
    keeps a WAV under 4 GiB (a JUNK chunk holds RF64's place) and FFmpeg reads whole; told a
    short one, a plain WAV; told none and passing the limit, it stops and leaves nothing."""
    from audio_tools import ffmpeg_decode
    from spectral_enhance.audio import write
    from spectral_enhance.audio.tags import Tags

    monkeypatch.setattr(write, "WAV_LIMIT", 1 << 16)
    x = music(0.2, 44100, channels=2).reshape(-1, 2)  # 70 KB of float samples
    long, short = tmp_path / "long.wav", tmp_path / "short.wav"
    with write.audio_writer(
        long, 44100, 2, "wav", tags=Tags({"title": "t"}), frames=len(x)
    ) as sink:
        sink.write(x)
    assert b"JUNK" in long.read_bytes()[:64]
    np.testing.assert_array_equal(ffmpeg_decode(long, 2), x)
    assert b"id3 " in long.read_bytes()  # a WAV after all: its tags are written
    with write.audio_writer(short, 44100, 2, "wav", frames=10) as sink:
        sink.write(x[:10])
    assert b"JUNK" not in short.read_bytes()[:64]
    with (
        pytest.raises(OutputError, match="longer than the 4 GiB a WAV holds"),
        write.audio_writer(tmp_path / "unknown.wav", 44100, 2, "wav") as sink,
    ):
        sink.write(x)
    assert list(tmp_path.glob("unknown*")) == []

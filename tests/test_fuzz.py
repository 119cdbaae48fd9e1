"""Damaged files never break the input module (issue 11): a result or a one-line AudioError.

Hypothesis damages real files (our tagged MP3, a ``lame`` CLI MP3, a tag-less lameenc MP3, a
WAV and a FLAC) by flipping bytes, overwriting, deleting, inserting, truncating, prepending and
appending, and decodes each copy whole from its bytes and block by block from a file
(:func:`audio_tools.decode_damaged` states the checks). ``scripts/fuzz_decode.py`` runs the
same checks on as many random copies as asked.
"""

from __future__ import annotations

import resource
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audio_tools import MUTATIONS, decode_damaged, mutate, seed_files
from spectral_enhance.audio import decode

# A damaged copy decodes to at most this many times the intact file's values: a damaged WAV
# header may name a 4-bit ADPCM codec (3.4x seen), a damaged MP3 frame turn mono to stereo.
GROWTH = 4
MAX_RSS_GROWTH = 500 * 2**20  # bytes one damaged copy may add to the peak memory


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, tuple[bytes, int]]:
    """The intact files' bytes and how many values each decodes to."""
    files = seed_files(tmp_path_factory.mktemp("fuzz-seeds"))
    return {name: (data, decode(data).samples.size) for name, data in files.items()}


@pytest.fixture(scope="module")
def case_folder(tmp_path_factory):
    """Where each damaged copy is written, to be decoded as a file."""
    return tmp_path_factory.mktemp("fuzz-cases")


def peak_rss() -> int:
    """The process's peak resident memory so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


mutation = st.tuples(
    st.sampled_from(MUTATIONS),
    st.floats(0, 1, exclude_max=True),
    st.integers(1, 20_000),
    st.integers(0, 2**32 - 1),
)


@settings(
    max_examples=100,
    deadline=timedelta(seconds=5),
    database=None,  # writes nothing into the source tree
    derandomize=True,  # the same 100 copies on every run; the script explores
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_damaged_files_decode_or_fail_cleanly(seeds, case_folder, data):
    name = data.draw(st.sampled_from(sorted(seeds)), "seed")
    mutations = data.draw(st.lists(mutation, min_size=1, max_size=4), "mutations")
    intact, size = seeds[name]
    start = peak_rss()
    outcome, values, _ = decode_damaged(mutate(intact, mutations), case_folder / f"case-{name}")
    assert outcome in ("decoded", "warned", "error")
    assert values <= GROWTH * size
    assert peak_rss() - start < MAX_RSS_GROWTH


def test_mp3_ffmpeg_cannot_open_at_its_first_frame_is_read_whole(seeds, case_folder):
    # One junk byte, the Info frame and a frame: too little for FFmpeg's MP3 reader started at
    # the first frame (it raised av's InvalidDataError once); read whole, as FFmpeg reads it.
    data = b"J" + seeds["lame.mp3"][0][:900]
    outcome, values, _ = decode_damaged(data, case_folder / "short.mp3")
    assert outcome == "warned" and values > 0


def test_junk_before_a_flac_is_read_by_its_name_from_bytes_as_from_a_file(seeds, case_folder):
    # Only the name tells FFmpeg what this is: decode(bytes, name=...) must use it as a file does.
    intact, size = seeds["seed.flac"]
    outcome, values, _ = decode_damaged(b"junk" + intact, case_folder / "junk.flac")
    assert outcome != "error" and values >= size


def test_wav_with_a_codec_ffmpeg_does_not_know_is_refused_cleanly(seeds, case_folder):
    # Bits per sample 0x9810: FFmpeg finds an audio stream with no codec (this raised an
    # AttributeError once, found by scripts/fuzz_decode.py).
    intact, _ = seeds["seed.wav"]
    data = intact[:34] + b"\x10\x98" + intact[36:]
    assert decode_damaged(data, case_folder / "unknown.wav") == ("error", 0, 0.0)

"""An enhanced file keeps what a library sorts by: inputs tagged by Debian's lame and ffmpeg,
outputs read back by Debian's ffprobe and ffmpeg, and by TagLib (``pytaglib``), which most
Linux players and taggers read tags with: not by the code that wrote them (mutagen)."""

import json

import numpy as np
import pytest

from audio_tools import run, source, write_wav
from spectral_enhance.cli import main

TAGS = {
    "title": "Tïtle ünïcode",
    "artist": "Artist",
    "album": "Album",
    "album_artist": "Album Artist",
    "date": "2001",
    "genre": "Rock",
    "composer": "Composer",
}
# The same tags, as each output holds its track and disc numbers.
IN_WAV = TAGS | {"track": "3/12", "disc": "1/2"}
IN_FLAC = TAGS | {"track": "3", "tracktotal": "12", "disc": "1", "disctotal": "2"}


def enhance(inputs, out, model, fmt):
    args = ["enhance", *map(str, inputs), "-o", str(out), "--format", fmt, "-q"]
    assert main([*args, "--model", model, "--precision", "fp32"]) == 0


def ffprobe_tags(path) -> dict[str, str]:
    """The output's tags as Debian's ffprobe reads them, names in lower case."""
    out = run("ffprobe", "-v", "error", "-show_entries", "format_tags", "-of", "json", path)
    return {key.lower(): value for key, value in json.loads(out)["format"]["tags"].items()}


def taglib_tags(path) -> dict[str, str]:
    """The output's tags as TagLib reads them (a WAV's from its ID3 chunk), names in lower
    case, each tag's values joined."""
    import taglib

    with taglib.File(str(path)) as song:
        return {key.lower(): "; ".join(values) for key, values in song.tags.items()}


# TagLib's names for what ffprobe calls album_artist, and its own track and disc numbers.
TAGLIB = {("albumartist" if key == "album_artist" else key): value for key, value in TAGS.items()}
TAGLIB_WAV = TAGLIB | {"tracknumber": "3/12", "discnumber": "1/2"}
TAGLIB_FLAC = TAGLIB | {"tracknumber": "3", "tracktotal": "12", "discnumber": "1", "disctotal": "2"}


def ffmpeg_picture(path, tmp_path) -> bytes:
    """The attached picture's bytes, copied out by Debian's ffmpeg."""
    target = tmp_path / f"{path.name}.picture"
    run("ffmpeg", "-v", "error", "-i", path, "-an", "-c:v", "copy", "-f", "image2", target)
    return target.read_bytes()


@pytest.fixture
def cover(tmp_path):
    path = tmp_path / "cover.png"
    run("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=16x16", "-frames:v", "1", path)
    return path


@pytest.fixture
def wav(tmp_path):
    return write_wav(tmp_path / "source.wav", source(2.0, 44100, 2), 44100)


def test_lame_tags_and_cover_art_reach_wav_and_flac(tmp_path, wav, cover, identity_model):
    mp3 = tmp_path / "in" / "song.mp3"
    mp3.parent.mkdir()
    run(
        "lame", "--quiet", "-b", "64", "--tt", TAGS["title"], "--ta", "Artist", "--tl", "Album",
        "--ty", "2001", "--tn", "3/12", "--tg", "Rock", "--tv", "TPE2=Album Artist",
        "--tv", "TPOS=1/2", "--tv", "TCOM=Composer",
        "--tv", "TXXX=REPLAYGAIN_TRACK_GAIN=-6.50 dB", "--ti", cover, wav, mp3,
    )  # fmt: skip
    gain = {"replaygain_track_gain": "-6.50 dB"}
    for fmt, expected, by_taglib in (("wav", IN_WAV, TAGLIB_WAV), ("flac", IN_FLAC, TAGLIB_FLAC)):
        enhance([mp3], tmp_path / fmt, identity_model, fmt)
        output = tmp_path / fmt / f"song.enhanced.{fmt}"
        assert ffprobe_tags(output) == expected | gain  # LAME's encoder tag is left out
        assert taglib_tags(output) == by_taglib | gain
        assert ffmpeg_picture(output, tmp_path) == cover.read_bytes()


@pytest.mark.parametrize("suffix", ["m4a", "ogg"])
def test_ffmpeg_tags_reach_the_output(tmp_path, wav, cover, identity_model, suffix):
    """M4A atoms with a JPEG cover, and Vorbis comments with a ReplayGain value (which still
    holds for the output: `scripts/loudness_change.py`)."""
    coded = tmp_path / "in" / f"song.{suffix}"
    coded.parent.mkdir()
    meta = [x for key, value in IN_WAV.items() for x in ("-metadata", f"{key}={value}")]
    if suffix == "m4a":
        jpeg = tmp_path / "cover.jpg"
        run("ffmpeg", "-v", "error", "-i", cover, jpeg)
        codec = ["-i", jpeg, "-map", "0", "-map", "1", "-c:a", "aac", "-b:a", "64k"]
        codec += ["-c:v", "copy", "-disposition:v", "attached_pic"]
    else:
        codec = ["-c:a", "libvorbis", "-metadata", "REPLAYGAIN_TRACK_GAIN=-3.00 dB"]
    run("ffmpeg", "-v", "error", "-i", wav, *codec, *meta, coded)
    enhance([coded], tmp_path / "out", identity_model, "flac")
    output = tmp_path / "out" / "song.enhanced.flac"
    gain = {"replaygain_track_gain": "-3.00 dB"} if suffix == "ogg" else {}
    assert ffprobe_tags(output) == IN_FLAC | gain
    assert taglib_tags(output) == TAGLIB_FLAC | gain
    if suffix == "m4a":
        assert ffmpeg_picture(output, tmp_path) == jpeg.read_bytes()


def test_an_mp3_s_apev2_tag_reaches_the_output(tmp_path, wav, identity_model):
    """An APEv2 tag at an MP3's end (mp3gain's ReplayGain, some taggers' everything), which
    FFmpeg does not read from an MP3; written by mutagen, beside an ID3v2 title that wins."""
    from mutagen.apev2 import APEv2

    mp3 = tmp_path / "in" / "song.mp3"
    mp3.parent.mkdir()
    run("lame", "--quiet", "-b", "64", "--tt", "ID3 Title", wav, mp3)
    ape = APEv2()
    ape.update({"Title": "APE Title", "Artist": "Artist", "Year": "1999",
                "Album Artist": "Album Artist", "REPLAYGAIN_TRACK_GAIN": "-6.50 dB"})  # fmt: skip
    ape.save(mp3)
    enhance([mp3], tmp_path / "out", identity_model, "flac")
    assert ffprobe_tags(tmp_path / "out" / "song.enhanced.flac") == {
        "title": "ID3 Title",
        "artist": "Artist",
        "date": "1999",
        "album_artist": "Album Artist",
        "replaygain_track_gain": "-6.50 dB",
    }


def taglib_lists(path) -> dict[str, list[str]]:
    """Each tag's values, as TagLib reads them."""
    import taglib

    with taglib.File(str(path)) as song:
        return {key.lower(): list(values) for key, values in song.tags.items()}


@pytest.mark.parametrize("suffix", ["mp3", "wv"])
def test_an_apev2_item_of_several_values_keeps_them_all(tmp_path, wav, identity_model, suffix):
    """An APEv2 item holds its values NUL-separated: an MP3's (which FFmpeg does not read) came
    out as one artist "A\\0B", a WavPack's (which FFmpeg reads) as its first value alone."""
    from mutagen.apev2 import APEv2

    coded = tmp_path / "in" / f"song.{suffix}"
    coded.parent.mkdir()
    if suffix == "mp3":
        run("lame", "--quiet", "-b", "64", wav, coded)
    else:
        run("ffmpeg", "-v", "error", "-i", wav, coded)
    ape = APEv2()
    ape.update({"Artist": ["First Artist", "Second Artist"], "Title": "Title", "Genre": ["Rock"]})
    ape.save(coded)
    enhance([coded], tmp_path / "out", identity_model, "flac")
    found = taglib_lists(tmp_path / "out" / "song.enhanced.flac")
    assert found["artist"] == ["First Artist", "Second Artist"]
    assert found["title"] == ["Title"] and found["genre"] == ["Rock"]


@pytest.mark.parametrize("suffix", ["mp3", "flac", "m4a"])
def test_a_tag_of_several_values_keeps_them_all(tmp_path, wav, identity_model, suffix):
    """Two artists and two genres, as TagLib (and Picard, on it) writes them: an MP3's ID3v2.4
    frame or an M4A's atom of two values, of which FFmpeg keeps the first (the second artist
    was lost), a FLAC's repeated fields, which FFmpeg joins with ";" (written back as one)."""
    import taglib

    tagged = tmp_path / "in" / f"song.{suffix}"
    tagged.parent.mkdir()
    if suffix == "mp3":
        run("lame", "--quiet", "-b", "64", wav, tagged)
    else:
        run("ffmpeg", "-v", "error", "-i", wav, *(["-b:a", "64k"] * (suffix == "m4a")), tagged)
    several = {"artist": ["Alpha", "Beta; Gamma"], "genre": ["Rock", "Jazz"], "title": ["One"]}
    with taglib.File(str(tagged), save_on_exit=True) as song:
        song.tags.update({key.upper(): values for key, values in several.items()})
    assert several.items() <= taglib_lists(tagged).items()  # FFmpeg's encoder tag beside
    for fmt in ("wav", "flac"):
        enhance([tagged], tmp_path / fmt, identity_model, fmt)
        assert taglib_lists(tmp_path / fmt / f"song.enhanced.{fmt}") == several


def test_an_untagged_input_gets_no_tag_chunk(tmp_path, wav, identity_model):
    mp3 = tmp_path / "in" / "plain.mp3"
    mp3.parent.mkdir()
    run("lame", "--quiet", "-b", "64", wav, mp3)  # only LAME's own encoder tag
    enhance([mp3], tmp_path / "out", identity_model, "wav")
    assert b"id3 " not in (tmp_path / "out" / "plain.enhanced.wav").read_bytes()


def test_tags_that_cannot_be_read_are_named_and_the_file_still_enhanced(
    tmp_path, wav, identity_model, monkeypatch, capsys
):
    from spectral_enhance.audio import AudioError
    from spectral_enhance.inference import one_file

    def unreadable(path):
        raise AudioError(path, "its tags cannot be read (damaged ID3 frame)")

    monkeypatch.setattr(one_file, "read_tags", unreadable)
    enhance([wav], tmp_path / "out", identity_model, "wav")
    err = capsys.readouterr().err
    assert (
        f"warning: {wav}: its tags cannot be read (damaged ID3 frame); the output has none" in err
    )
    assert (tmp_path / "out" / "source.enhanced.wav").exists()


def test_damaged_tags_are_read_or_refused_in_one_line_and_what_is_read_can_be_written(
    tmp_path, wav, cover
):
    """Tagged files made by lame and ffmpeg, damaged mostly in their first 4 KB (the tags):
    each is read or refused with :class:`AudioError`, never another exception, and whatever is
    read is written to a WAV and a FLAC that libsndfile still opens."""
    import random

    import soundfile as sf

    from audio_tools import mutate, random_mutations
    from spectral_enhance.audio import AudioError
    from spectral_enhance.audio.tags import read_tags, write_tags

    mp3, m4a = tmp_path / "seed.mp3", tmp_path / "seed.m4a"
    run("lame", "--quiet", "-b", "64", "--tt", "T", "--ta", "A", "--ti", cover, wav, mp3)
    meta = ["-metadata", "title=T", "-metadata", "album_artist=AA"]
    picture = ["-i", cover, "-map", "0", "-map", "1", "-c:v", "png"]
    run("ffmpeg", "-v", "error", "-i", wav, *picture, "-disposition:v", "attached_pic", *meta, m4a)
    seeds = [mp3.read_bytes(), m4a.read_bytes()]
    empty = np.zeros((100, 2), np.float32)
    rng = random.Random(3)
    outcomes = {"read": 0, "refused": 0}
    for case in range(60):
        data = seeds[case % 2]
        head = mutate(data[:4096], random_mutations(rng))
        damaged = tmp_path / f"damaged{case}{('.mp3', '.m4a')[case % 2]}"
        damaged.write_bytes(head + data[4096:])
        try:
            tags = read_tags(damaged)
        except AudioError as error:
            assert str(error).startswith(f"{damaged}: its tags cannot be read")
            outcomes["refused"] += 1
            continue
        outcomes["read"] += 1
        for fmt, subtype in (("wav", "FLOAT"), ("flac", "PCM_24")):
            out = tmp_path / f"out.{fmt}"
            sf.write(out, empty, 44100, subtype=subtype)
            write_tags(out, fmt, tags)
            assert sf.info(out).frames == 100
    assert outcomes["read"] > 10 and outcomes["refused"] > 0, outcomes

"""A file's tags and cover art, carried from the input to the enhanced output.

What a music library sorts by (title, artist, album, album artist, track and disc, date, genre,
composer, comment, lyrics), its ReplayGain values and its pictures are read through FFmpeg, which
gives every container (ID3, MP4 atoms, Vorbis comments, ASF, RIFF INFO) the same names, with an
APEv2 tag's items where FFmpeg gives none (it reads none from an MP3: mp3gain keeps ReplayGain
there, some taggers everything), and a tag's several values (two artists, as Picard writes them)
read by mutagen where FFmpeg keeps the first (ID3v2.4, MP4) or joins them with ``;`` (Vorbis
comments); all
written with mutagen: FLAC as Vorbis comments and picture blocks, WAV as an ID3v2.4 chunk, which
players and FFmpeg read. ReplayGain still holds: enhancing moves a file's loudness by at most
0.2 LU and its true peak by 0.3 dB (`scripts/loudness_change.py`), and without it a player that
levels by it would play the output several dB louder than the rest of the library. What
describes the input's coding rather than its music (the encoder, gapless values, the container's
brand) is left out: it would be wrong for the output.

Why mutagen: libsndfile, which writes the samples, holds ten text fields (no album artist, disc
or composer) and no pictures; FFmpeg could write them only by writing the samples too, a
second writer. mutagen adds them to the finished file: 12 ms for a 3-minute 24-bit FLAC (it
moves the samples to make room), under 1 ms for a WAV (the chunk goes at its end).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .probe import AudioError

__all__ = ["Picture", "Tags", "read_tags", "write_tags"]

# FFmpeg's name for each tag kept -> (Vorbis comment, ID3v2.4 frame).
KEPT = {
    "title": ("TITLE", "TIT2"),
    "artist": ("ARTIST", "TPE1"),
    "album": ("ALBUM", "TALB"),
    "album_artist": ("ALBUMARTIST", "TPE2"),
    "track": ("TRACKNUMBER", "TRCK"),
    "disc": ("DISCNUMBER", "TPOS"),
    "date": ("DATE", "TDRC"),
    "genre": ("GENRE", "TCON"),
    "composer": ("COMPOSER", "TCOM"),
    "copyright": ("COPYRIGHT", "TCOP"),
    "publisher": ("PUBLISHER", "TPUB"),
    "comment": ("COMMENT", "COMM"),
    "lyrics": ("LYRICS", "USLT"),
    "replaygain_track_gain": ("REPLAYGAIN_TRACK_GAIN", "TXXX:REPLAYGAIN_TRACK_GAIN"),
    "replaygain_track_peak": ("REPLAYGAIN_TRACK_PEAK", "TXXX:REPLAYGAIN_TRACK_PEAK"),
    "replaygain_album_gain": ("REPLAYGAIN_ALBUM_GAIN", "TXXX:REPLAYGAIN_ALBUM_GAIN"),
    "replaygain_album_peak": ("REPLAYGAIN_ALBUM_PEAK", "TXXX:REPLAYGAIN_ALBUM_PEAK"),
}
# The MP4 atoms of the kept tags that may hold several texts, by FFmpeg's names.
MP4_ATOMS = {
    "title": "\u00a9nam", "artist": "\u00a9ART", "album": "\u00a9alb", "album_artist": "aART",
    "genre": "\u00a9gen", "composer": "\u00a9wrt",
}  # fmt: skip
_APE_TAIL = 32 + 128  # an APEv2 footer, and an ID3v1 tag after it
# An APEv2 item's name, lower-cased, where FFmpeg's differs.
APE_NAMES = {"year": "date", "album artist": "album_artist"}
# A count kept apart from its number (Vorbis comments' TRACKTOTAL): FFmpeg's name -> the number's.
TOTALS = {"tracktotal": "track", "totaltracks": "track", "disctotal": "disc", "totaldiscs": "disc"}
# ID3's picture types, by the names FFmpeg gives them (its ``ff_id3v2_picture_types``).
PICTURE_TYPES = (
    "Other", "32x32 pixels 'file icon'", "Other file icon", "Cover (front)", "Cover (back)",
    "Leaflet page", "Media (e.g. label side of CD)", "Lead artist/lead performer/soloist",
    "Artist/performer", "Conductor", "Band/Orchestra", "Composer", "Lyricist/text writer",
    "Recording Location", "During recording", "During performance",
    "Movie/video screen capture", "A bright coloured fish", "Illustration",
    "Band/artist logotype", "Publisher/Studio logotype",
)  # fmt: skip
FRONT_COVER = 3
MIME = {"mjpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "bmp": "image/bmp"}
ATTACHED_PIC = 0x400  # AV_DISPOSITION_ATTACHED_PIC


@dataclass(frozen=True)
class Picture:
    """One embedded image: its bytes, MIME type, ID3 picture type and description."""

    data: bytes
    mime: str
    kind: int = FRONT_COVER
    description: str = ""


@dataclass
class Tags:
    """The tags kept, by FFmpeg's names, each with its values (``artist``: ``["A", "B"]``;
    ``track`` as ``["3"]`` or ``["3/12"]``), and the pictures."""

    text: dict[str, list[str]] = field(default_factory=dict)
    pictures: list[Picture] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.text or self.pictures)


def read_tags(path: str | os.PathLike) -> Tags:
    """The tags and pictures of ``path`` worth keeping.

    Raises :class:`AudioError` if FFmpeg cannot read them: the caller, whose enhancement does
    not depend on them, says so and goes on without them.
    """
    import av

    tags = Tags()
    try:
        with av.open(str(path), "r") as container:
            found: dict[str, str] = {}
            audio = container.streams.audio[:1]
            for metadata in (container.metadata, *(s.metadata for s in audio)):
                found |= {key.lower(): value for key, value in metadata.items()}
            for stream in container.streams.video:
                if int(stream.disposition) & ATTACHED_PIC and stream.codec_context is not None:
                    picture = _picture(container, stream)
                    if picture is not None:
                        tags.pictures.append(picture)
    except (av.FFmpegError, OSError, ValueError) as error:
        raise AudioError(path, f"its tags cannot be read ({error})") from error
    ape = _apev2(path)
    found = {name: values[0] for name, values in ape.items()} | found
    for key, value in found.items():
        name = "lyrics" if key.startswith("lyrics") else key  # FFmpeg's ``lyrics-eng``
        if name in KEPT and value.strip():
            tags.text[name] = [value]
    if tags.text:
        tags.text |= _several(path, set(tags.text))
        # an APEv2 item of several values (NUL-separated), where it is the tag kept
        tags.text |= {
            name: values
            for name, values in ape.items()
            if len(values) > 1 and tags.text.get(name) == values[:1]
        }
    for key, number in TOTALS.items():
        total = found.get(key, "").strip()
        if total and number in tags.text and "/" not in tags.text[number][0]:
            tags.text[number][0] = f"{tags.text[number][0]}/{total}"
    return tags


def _several(path: str | os.PathLike, names: set[str]) -> dict[str, list[str]]:
    """The tags of ``names`` that hold several values, each with all of them: FFmpeg keeps an
    ID3v2.4 frame's or MP4 atom's first value only (a tagger's second artist, its genres after
    the first) and joins a Vorbis comment's repeated field with ``;``, which a value may hold
    itself. mutagen reads them all as lists."""
    from mutagen import File, MutagenError
    from mutagen.mp4 import MP4Tags

    try:
        found = File(path)
    except (MutagenError, OSError, ValueError):
        return {}
    tags = getattr(found, "tags", None)
    comments = tags.as_dict() if hasattr(tags, "as_dict") else None  # Vorbis: FLAC, Ogg
    several = {}
    for name in names - {"comment", "lyrics"}:  # one text each, as written
        vorbis, frame = KEPT[name]
        if hasattr(tags, "getall"):  # ID3, in an MP3, WAV or AIFF
            texts = [kept.genres if frame == "TCON" else kept.text for kept in tags.getall(frame)]
            values = [str(value) for text in texts for value in text]  # genres: "(17)" is Rock
        elif comments is not None:
            values = comments.get(vorbis.lower(), [])
        elif isinstance(tags, MP4Tags) and name in MP4_ATOMS:  # an M4A's text atoms
            values = [str(value) for value in tags.get(MP4_ATOMS[name], [])]
        else:
            continue
        if len(values) > 1:
            several[name] = [value for value in values if value.strip()]
    return several


def _apev2(path: str | os.PathLike) -> dict[str, list[str]]:
    """The text items of ``path``'s APEv2 tag by FFmpeg's names, each with its values, or none:
    mutagen finds the tag at the file's end (before an ID3v1 tag too), imported only where its
    footer is there."""
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - _APE_TAIL))
            if b"APETAGEX" not in file.read():
                return {}
    except OSError:
        return {}
    from mutagen.apev2 import APENoHeaderError, APETextValue, APEv2

    try:
        tag = APEv2(path)
    except (APENoHeaderError, OSError, ValueError):
        return {}
    found = {}
    for key, value in tag.items():
        values = [text for text in value if text.strip()] if isinstance(value, APETextValue) else []
        if values:
            name = key.lower()
            found[APE_NAMES.get(name, name)] = values
    return found


def _picture(container, stream) -> Picture | None:
    """The attached picture of ``stream``: FFmpeg queues it as the stream's first packet."""
    mime = MIME.get(stream.codec_context.name)
    if mime is None:
        return None
    data = bytes(next(container.demux(stream), b""))
    if not data:
        return None
    name = stream.metadata.get("comment", "")
    kind = PICTURE_TYPES.index(name) if name in PICTURE_TYPES else FRONT_COVER
    return Picture(data, mime, kind, stream.metadata.get("title", ""))


def write_tags(path: Path, fmt: str, tags: Tags) -> None:
    """Write ``tags`` into the finished output ``path`` (``fmt``: ``wav`` or ``flac``)."""
    if fmt == "flac":
        _write_flac(path, tags)
    else:
        _write_wav(path, tags)


def _write_flac(path: Path, tags: Tags) -> None:
    from mutagen.flac import FLAC
    from mutagen.flac import Picture as FlacPicture

    out = FLAC(path)
    for key, values in tags.text.items():
        name = KEPT[key][0]
        if key in ("track", "disc") and "/" in values[0]:  # Vorbis comments keep it apart
            number, total = (part.strip() for part in values[0].split("/", 1))
            values = [number, *values[1:]]
            if total:
                out[name.replace("NUMBER", "TOTAL")] = total
        out[name] = values
    for picture in tags.pictures:
        block = FlacPicture()
        block.data, block.mime, block.type = picture.data, picture.mime, picture.kind
        block.desc = picture.description
        out.add_picture(block)
    out.save()


def _write_wav(path: Path, tags: Tags) -> None:
    from mutagen import id3
    from mutagen.wave import WAVE

    out = WAVE(path)
    out.add_tags()
    for key, values in tags.text.items():
        frame = KEPT[key][1]
        if frame.startswith("TXXX:"):
            out.tags.add(id3.TXXX(encoding=3, desc=frame[5:], text=values))
        elif frame == "COMM":
            out.tags.add(id3.COMM(encoding=3, lang="eng", desc="", text=values))
        elif frame == "USLT":  # one text, not a list
            out.tags.add(id3.USLT(encoding=3, lang="eng", desc="", text=values[0]))
        else:
            out.tags.add(getattr(id3, frame)(encoding=3, text=values))
    descriptions: set[str] = set()
    for picture in tags.pictures:
        desc = picture.description  # ID3 holds one picture per description
        while desc in descriptions:
            desc += " "
        descriptions.add(desc)
        out.tags.add(
            id3.APIC(encoding=3, mime=picture.mime, type=picture.kind, desc=desc, data=picture.data)
        )
    out.save()

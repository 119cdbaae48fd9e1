"""Audio in and out: the input module (:mod:`.decode`), the MP3 format's gapless facts
(:mod:`.mp3`), the output writer (:mod:`.write`) and finding files (:mod:`.files`)."""

from .decode import (
    AudioError,
    AudioInfo,
    AudioReader,
    Decoded,
    StreamResampler,
    decode,
    open_audio,
    read_audio,
    resample,
    resampled_length,
    to_mono,
)
from .files import AUDIO_EXTENSIONS, find_audio
from .write import audio_writer, write_audio

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioError",
    "AudioInfo",
    "AudioReader",
    "Decoded",
    "StreamResampler",
    "audio_writer",
    "decode",
    "find_audio",
    "open_audio",
    "read_audio",
    "resample",
    "resampled_length",
    "to_mono",
    "write_audio",
]

"""Restore low-bitrate MP3 music: rebuild the high band a codec removed (Deshpande et al.)."""

__version__ = "0.1.0"

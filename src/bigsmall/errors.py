"""User-facing errors.

Every error a user can cause is a :class:`BigSmallError` whose message is one clear line naming
the file (if any), what is wrong and what to do. The CLI prints it without a traceback and exits
with status 2.
"""

from __future__ import annotations


class BigSmallError(Exception):
    """Base class of every error caused by user input or data."""

    exit_code: int = 2


class ConfigError(BigSmallError):
    """A configuration file or option is invalid."""


class ModelNotFoundError(BigSmallError, KeyError):
    """An unknown model name was requested."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class CheckpointError(BigSmallError):
    """A checkpoint file is missing, unreadable or does not fit the model."""


class VideoError(BigSmallError):
    """Base class of video input problems."""


class VideoNotFoundError(VideoError):
    """The video file or frame folder does not exist."""


class VideoUnreadableError(VideoError):
    """The file exists but is not a video that can be decoded."""


class VideoTruncatedError(VideoError):
    """The video is truncated or corrupt part-way through."""


class VideoTooShortError(VideoError):
    """The video has fewer frames than the requested analysis needs."""


class NoFaceError(VideoError):
    """No face was found in the video."""


class DatasetError(BigSmallError):
    """A dataset folder or one of its recordings is malformed."""


class AlignmentUnavailableError(BigSmallError):
    """Landmark alignment was asked for but its optional extra (dlib + models) is missing."""


class VideoTruncatedWarning(UserWarning):
    """A video ended early (truncated or corrupt); the frames before the damage were used."""

"""Files and output folders that appear whole or not at all, and output folders that
``--overwrite`` can only ever replace when this program wrote them.

Files: :func:`atomic_temp` gives a hidden temporary beside the target (with a new file's
normal mode), :func:`write_text_atomic` / :func:`write_json_atomic` write through one and
rename it onto the target.

Every command that writes a folder (``predict``, ``demo``, ``synth``) writes it through
:func:`atomic_dir`: the files go to a hidden sibling ``.NAME.tmp-PID-*`` that is renamed to
``NAME`` at the end, with a marker file (:data:`MARKER`) inside. ``--overwrite`` replaces an
existing folder only when it holds that marker; it never removes a file, a folder without the
marker, the current folder or one above it, or a folder that holds one of the run's inputs.
Two runs writing the same new folder at once: the first to finish keeps it, the other ends
with a one-line error and leaves nothing behind. Hidden temporaries of runs that were killed
(their process no longer exists) are removed by the next run writing beside them.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bigsmall.errors import BigSmallError, ConfigError
from bigsmall.version import __version__

#: File inside every folder this program writes; ``--overwrite`` replaces only such folders.
MARKER: str = ".bigsmall-output"
_TMP_INFIX: str = ".tmp-"
_RACE = (
    "{out}: another run wrote this folder while this one ran; this run's result was not kept "
    "(use another --out)"
)


def atomic_temp(path: Path, suffix: str = ".tmp") -> tuple[int, str]:
    """``(fd, name)`` of a new hidden temporary file beside ``path`` (to ``os.replace`` onto it)
    with the mode a new file gets here (0666 minus the umask), not ``mkstemp``'s 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(name, 0o666 & ~mask)
    return fd, name


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file beside it and ``os.replace``."""
    fd, tmp = atomic_temp(path)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(
    path: Path, obj: object, *, default: Callable[[Any], Any] | None = str
) -> None:
    """Write ``obj`` as indented, key-sorted JSON to ``path`` atomically.

    Values JSON has no type for are written as ``default(value)`` (their ``str``);
    ``default=None`` makes them a ``TypeError`` instead. The temporary's name is unique
    (:func:`atomic_temp`), so several processes, on one machine or several sharing the folder,
    may write the same file at once: each write lands whole and the last one stays.
    """
    text = json.dumps(obj, indent=2, sort_keys=True, default=default)
    write_text_atomic(path, text + "\n")


def is_own_output(path: str | Path) -> bool:
    """True for a folder this program wrote (it holds :data:`MARKER`)."""
    return (Path(path) / MARKER).is_file()


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.relative_to(parent)
    except ValueError:
        return False
    return True


def check_out_dir(
    out_dir: str | Path,
    overwrite: bool = False,
    inputs: Iterable[str | Path] = (),
    error: type[BigSmallError] = ConfigError,
) -> Path:
    """Refuse (one-line ``error``) an ``out_dir`` this run may not write; returns it as a Path.

    A new or empty folder is fine; a non-empty one needs ``overwrite`` and must be one this
    program wrote (:func:`is_own_output`); a file, the current folder or a folder above it, and
    a folder holding one of ``inputs`` are never replaced; the folder must be writable.
    """
    out = Path(out_dir)
    resolved = out.resolve()
    if out.exists() and not out.is_dir():
        raise error(f"{out}: is a file, not a folder; choose another --out (it is never replaced)")
    if _inside(Path.cwd().resolve(), resolved):
        raise error(f"{out}: is the current folder or above it; choose a new folder for --out")
    for item in inputs:
        if _inside(Path(item).resolve(), resolved):
            raise error(f"{out}: holds the input {item}; choose another --out")
    existing = next(p for p in (resolved, *resolved.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise error(f"{out}: cannot write there ({existing} is not writable); choose another --out")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise error(
                f"{out}: output folder exists and is not empty; pass --overwrite or another --out"
            )
        if not is_own_output(out):
            raise error(
                f"{out}: not a folder bigsmall wrote (no {MARKER} inside); --overwrite only "
                "replaces bigsmall's own output folders — choose another --out"
            )
    return out


def remove_stale_temporaries(out: Path) -> None:
    """Remove hidden ``.NAME.tmp-PID-*`` siblings of ``out`` whose process no longer exists."""
    if not out.parent.is_dir():
        return
    for tmp in out.parent.glob(f".{out.name}{_TMP_INFIX}*"):
        pid = tmp.name.rpartition(_TMP_INFIX)[2].partition("-")[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(tmp, ignore_errors=True)
        except OSError:
            continue  # alive (another user's process): leave it


@contextmanager
def atomic_dir(
    out_dir: str | Path,
    overwrite: bool = False,
    inputs: Iterable[str | Path] = (),
    written_by: str = "bigsmall",
    error: type[BigSmallError] = ConfigError,
) -> Iterator[Path]:
    """Yield a hidden temporary sibling of ``out_dir``; on success it becomes ``out_dir`` (with
    :data:`MARKER` naming ``written_by``). Checked first with :func:`check_out_dir`."""
    inputs = list(inputs)
    out = check_out_dir(out_dir, overwrite, inputs, error)
    existed = out.is_dir() and any(out.iterdir())
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise error(f"{out.parent}: cannot create this folder ({exc.strerror})") from None
    remove_stale_temporaries(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}{_TMP_INFIX}{os.getpid()}-", dir=out.parent))
    try:
        try:
            yield tmp
            marker = {"written_by": written_by, "version": __version__}
            (tmp / MARKER).write_text(json.dumps(marker) + "\n")
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            raise error(f"{out}: writing failed: {exc.strerror or exc}{where}") from None
        if out.is_dir() and any(out.iterdir()):
            if not existed:
                raise error(_RACE.format(out=out))
            check_out_dir(out, overwrite, inputs, error)
            shutil.rmtree(out)
        try:
            os.rename(tmp, out)  # fails if another run filled ``out`` meanwhile
        except OSError:
            raise error(_RACE.format(out=out)) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

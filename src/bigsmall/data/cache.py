"""A resumable, shardable on-disk cache of preprocessed BigSmall windows.

Layout (one directory per preprocessing config and dataset state)::

    CACHE/<source>-<key>/                key = sha256 of (pipeline version, asdict(config),
                                          source name and options, every recording's files'
                                          (path, size, mtime)), first 16 hex digits
        config.json                      what the key was made of (minus file identities)
        recordings.json                  the sorted recording listing (+ listing problems)
        rec/<id>/big.npy                 uint8 (W, 3, H, W) frame 0 of each window
                                          (or (T_used, 3, H, W) with big_frames="all")
        rec/<id>/small.npy               float16 (T_used, 3, h, w) diff-normalized frames
        rec/<id>/au.npy                  int8 (T_used, K), -1 = not coded
        rec/<id>/bvp.npy, resp.npy       float32 (T_used,) diff-normalized labels (if any)
        rec/<id>/bvp_eval.npy, resp_eval.npy   float32 (T_used,) recorded waves (if any)
        rec/<id>/rgb.npy                 float32 (T_used, 3) face mean RGB (classic rPPG)
        rec/<id>/meta.json               fps, Big mean/std, shapes, bytes, reference rates
        skipped/<id>.json                why a recording was skipped (one line)
        manifest.json                    merged summary; deterministic (no times, sorted)

``T_used = n_windows · N`` (see :mod:`bigsmall.data.chunking`). Big is stored as uint8 and
standardized on load with the recording's stored mean/std (exactly
:meth:`bigsmall.video.BigSmallInputs.big_standardized`).

Crash safety: a recording's files are written into ``rec/.tmp/<id>/<host>-<pid>/`` and the
folder is renamed to ``rec/<id>`` in one step, so a recording folder is either complete or
absent; JSON files are written to a temporary name and renamed. A rerun (after a kill, or
on another machine) skips finished recordings and produces the same bytes, since every file
is a deterministic function of the inputs.

Parallelism: ``workers`` processes on one machine (a progress bar counts recordings), and
sharding across machines: recording ``i`` of the sorted listing belongs to shard
``i mod N``; ``--shard K/N`` or ``RANK``/``WORLD_SIZE`` (set by ``torchrun``) pick the shard.
Every shard tries to merge ``manifest.json`` when it ends; the merge succeeds once every
recording is finished or skipped, i.e. for the last shard to finish.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import shutil
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bigsmall.data.chunking import n_windows as count_windows
from bigsmall.data.pipeline import PIPELINE_VERSION, PreprocessConfig, preprocess_recording
from bigsmall.data.schema import DataIssue, DataReport, RecordingError, RecordingRef
from bigsmall.data.sources import get_source
from bigsmall.errors import BigSmallError, ConfigError, DatasetError
from bigsmall.output_dir import write_json_atomic

#: Version of the cache layout (part of the key and of manifest.json).
CACHE_FORMAT: int = 1
KEY_HEX_DIGITS: int = 16
MANIFEST = "manifest.json"
CONFIG_FILE = "config.json"
LISTING_FILE = "recordings.json"
META_FILE = "meta.json"
REC_DIR = "rec"
SKIP_DIR = "skipped"
#: Unfinished recordings are written under ``rec/.tmp/<id>/<host>-<pid>/``.
TMP_DIR = ".tmp"
#: Frames written per block when copying Big frames (keeps memory flat for long videos).
_BLOCK_FRAMES = 256
_FLOAT32_BYTES = 4
_CHANNELS = 3


# ---------------------------------------------------------------------------- small helpers
def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` (0 <= K < N, 0-based like ``RANK``) → ``(K, N)``."""
    try:
        k_text, n_text = text.split("/")
        k, n = int(k_text), int(n_text)
    except ValueError:
        raise ConfigError(f"--shard must look like K/N (e.g. 0/4), got {text!r}") from None
    if not 0 <= k < n:
        raise ConfigError(f"--shard K/N needs 0 <= K < N (K is 0-based), got {text!r}")
    return k, n


def shard_from_env(env: Mapping[str, str] | None = None) -> tuple[int, int]:
    """``(RANK, WORLD_SIZE)`` from a ``torchrun`` environment, else ``(0, 1)``."""
    env = os.environ if env is None else env
    try:
        rank, world = int(env.get("RANK", "0")), int(env.get("WORLD_SIZE", "1"))
    except ValueError:
        raise ConfigError("RANK and WORLD_SIZE must be integers") from None
    if not 0 <= rank < world:
        raise ConfigError(f"RANK={rank} must be in [0, WORLD_SIZE={world})")
    return rank, world


def path_identity(path: Path) -> list[Any]:
    """``[path, size, mtime_ns]`` of a file; a folder sums its direct files (frame folders).

    The path is resolved, so ``--root data`` and ``--root /abs/data`` share a cache.
    """
    path = Path(path).resolve()
    try:
        if path.is_dir():
            stats = [p.stat() for p in sorted(path.iterdir()) if p.is_file()]
            size = sum(s.st_size for s in stats)
            mtime = max((s.st_mtime_ns for s in stats), default=path.stat().st_mtime_ns)
            return [str(path), size, mtime, len(stats)]
        stat = path.stat()
        return [str(path), stat.st_size, stat.st_mtime_ns]
    except OSError:
        return [str(path), None, None]


def recording_identity(ref: RecordingRef) -> dict[str, Any]:
    """The identity of one recording's files, for the cache key."""
    return {
        "id": ref.id,
        "files": {role: path_identity(p) for role, p in sorted(ref.paths.items())},
    }


def cache_key(
    cfg: PreprocessConfig,
    source_name: str,
    identities: Sequence[Mapping[str, Any]],
    source_options: Mapping[str, Any] | None = None,
) -> str:
    """Hex key of a cache: config, pipeline/cache versions, source and file identities."""
    payload = {
        "cache_format": CACHE_FORMAT,
        "pipeline_version": PIPELINE_VERSION,
        "config": asdict(cfg),
        "source": source_name,
        "source_options": dict(source_options or {}),
        "recordings": sorted(identities, key=lambda item: item["id"]),
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:KEY_HEX_DIGITS]


def float32_equivalent_bytes(
    n_used_frames: int, cfg: PreprocessConfig, n_au: int | None = None
) -> int:
    """Bytes of the same windows stored as the toolbox does: every frame's Big and Small
    input in float32 plus float32 labels (K AUs, PPG, respiration) per frame."""
    big_h, big_w = cfg.big_size
    small_h, small_w = cfg.small_size
    k = len(cfg.au_names) if n_au is None else n_au
    per_frame = _CHANNELS * (big_h * big_w + small_h * small_w) + k + 2
    return int(n_used_frames) * per_frame * _FLOAT32_BYTES


def directory_bytes(path: Path) -> int:
    """Total size of the plain files under ``path``."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


# ---------------------------------------------------------------------------- one recording
def _save_big(path: Path, big_uint8: np.ndarray, index: np.ndarray) -> tuple[int, ...]:
    """Write Big frames ``big_uint8[index]`` (HWC) as a channels-first uint8 .npy, blockwise."""
    _, height, width, channels = big_uint8.shape
    shape = (int(index.size), channels, height, width)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=shape)
    for start in range(0, index.size, _BLOCK_FRAMES):
        part = np.asarray(big_uint8[index[start : start + _BLOCK_FRAMES]])
        out[start : start + part.shape[0]] = part.transpose(0, 3, 1, 2)
    out.flush()
    del out
    return shape


def write_recording(rec_root: Path, prep: Any, cfg: PreprocessConfig) -> dict[str, Any]:
    """Write one :class:`~bigsmall.data.pipeline.PreprocessedRecording` atomically.

    Returns the recording's ``meta.json`` content.
    """
    rec = prep.recording
    n_seg = cfg.n_segment
    n_win = count_windows(prep.n_frames, n_seg)
    n_used = n_win * n_seg
    final = rec_root / rec.id
    tmp = rec_root / TMP_DIR / rec.id / f"{socket.gethostname()}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    files: dict[str, dict[str, Any]] = {}

    step = n_seg if cfg.big_frames == "first" else 1
    big_index = np.arange(0, n_used, step, dtype=np.int64)
    aligned = prep.inputs.aligned
    big_frames, big_mean, big_std = prep.inputs.big_uint8, prep.inputs.big_mean, prep.inputs.big_std
    if aligned is not None:  # the network's Big input: the aligned frames, and their landmarks
        if step % aligned.stride:
            raise ValueError(f"aligned every {aligned.stride} frames, Big needs every {step}")
        big_index //= aligned.stride
        big_frames, big_mean, big_std = aligned.frames, aligned.mean, aligned.std
        landmarks = np.ascontiguousarray(aligned.landmarks[big_index], np.float32)
        np.save(tmp / "landmarks.npy", landmarks)
        files["landmarks"] = {"shape": list(landmarks.shape), "dtype": "float32"}
    shape = _save_big(tmp / "big.npy", big_frames, big_index)
    files["big"] = {"shape": list(shape), "dtype": "uint8"}
    arrays: dict[str, np.ndarray | None] = {
        "small": np.ascontiguousarray(
            prep.inputs.small[:n_used].transpose(0, 3, 1, 2), dtype=np.float16
        ),
        "au": np.ascontiguousarray(prep.au[:n_used], dtype=np.int8),
        "bvp": None if prep.bvp is None else prep.bvp[:n_used].astype(np.float32),
        "resp": None if prep.resp is None else prep.resp[:n_used].astype(np.float32),
        "bvp_eval": None if prep.bvp_eval is None else prep.bvp_eval[:n_used],
        "resp_eval": None if prep.resp_eval is None else prep.resp_eval[:n_used],
        "rgb": np.asarray(prep.inputs.rgb[:n_used], np.float32),
    }
    for name, array in arrays.items():
        if array is None:
            continue
        np.save(tmp / f"{name}.npy", array)
        files[name] = {"shape": list(array.shape), "dtype": str(array.dtype)}
    labels = rec.labels
    meta: dict[str, Any] = {
        "id": rec.id,
        "subject": rec.subject,
        "source": rec.source,
        "fps": float(prep.fps),
        "n_frames": int(prep.n_frames),
        "n_used": int(n_used),
        "n_windows": int(n_win),
        "n_segment": n_seg,
        "big_frames": cfg.big_frames,
        "big_mean": float(big_mean),
        "big_std": float(big_std),
        "au_names": list(cfg.au_names),
        "bvp_kind": prep.bvp_kind,
        "bvp_eval_kind": prep.bvp_eval_kind,
        "heart_rate_bpm": labels.heart_rate_bpm,
        "breathing_rate_bpm": labels.breathing_rate_bpm,
        "video": str(rec.video.path),
        "frame_range": list(rec.video.frame_range) if rec.video.frame_range else None,
        "files": files,
        "float32_bytes": float32_equivalent_bytes(n_used, cfg),
        **prep.meta,
    }
    if aligned is not None:
        meta["aligned_fraction"] = float(np.mean(aligned.found[big_index]))
    meta["bytes"] = directory_bytes(tmp)  # arrays only; meta.json itself is tiny
    write_json_atomic(tmp / META_FILE, meta, default=None)
    try:
        os.rename(tmp, final)
    except OSError:  # another process finished the same recording first: keep its copy
        if not (final / META_FILE).is_file():
            raise
        shutil.rmtree(tmp, ignore_errors=True)
    with contextlib.suppress(OSError):  # the recording's temp folder, if now empty
        tmp.parent.rmdir()
    return meta


# ---------------------------------------------------------------------------- jobs
@dataclass(frozen=True)
class _Job:
    source_name: str
    ref: RecordingRef
    cfg: PreprocessConfig
    rec_root: str
    decode_threads: int = 0


def _run_job(job: _Job) -> dict[str, Any]:
    """Load, preprocess and write one recording (runs in a worker process)."""
    started = time.perf_counter()
    try:
        rec = get_source(job.source_name).load(job.ref)
        prep = preprocess_recording(rec, job.cfg, job.decode_threads)
        meta = write_recording(Path(job.rec_root), prep, job.cfg)
    except RecordingError as exc:
        return {"id": job.ref.id, "status": "skipped", "issue": _issue_dict(exc.issue)}
    except BigSmallError as exc:  # any other data problem: still one line, still counted
        issue = DataIssue(job.ref.id, job.ref.paths.get("video", ""), f"error: {exc}")
        return {"id": job.ref.id, "status": "skipped", "issue": _issue_dict(issue)}
    return {
        "id": job.ref.id,
        "status": "done",
        "frames": meta["n_frames"],
        "decoded": meta.get("decoded_frames", meta["n_frames"]),
        "seconds": time.perf_counter() - started,
    }


def _issue_dict(issue: DataIssue) -> dict[str, str]:
    return {"id": issue.recording_id, "path": str(issue.path), "message": issue.message}


def _worker_init() -> None:
    import cv2

    cv2.setNumThreads(1)


def _imap(jobs: list[_Job], workers: int) -> Iterator[dict[str, Any]]:
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield _run_job(job)
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(min(workers, len(jobs)), initializer=_worker_init) as pool:
        yield from pool.imap_unordered(_run_job, jobs)


# ---------------------------------------------------------------------------- run
@dataclass
class PreprocessSummary:
    """What one ``preprocess_dataset`` call did (this shard only, except ``manifest``)."""

    cache_dir: Path
    shard: tuple[int, int]
    n_listed: int
    n_owned: int
    n_done: int = 0
    n_reused: int = 0
    n_skipped: int = 0
    frames_processed: int = 0
    seconds: float = 0.0
    issues: list[dict[str, str]] = field(default_factory=list)
    manifest: dict[str, Any] | None = None

    @property
    def frames_per_sec(self) -> float:
        return self.frames_processed / self.seconds if self.seconds > 0 else 0.0

    def lines(self) -> list[str]:
        """Human-readable run summary (one line per skipped recording)."""
        k, n = self.shard
        out = [
            f"cache: {self.cache_dir}",
            f"shard {k}/{n}: {self.n_owned} of {self.n_listed} recordings; "
            f"{self.n_done} preprocessed, {self.n_reused} already cached, "
            f"{self.n_skipped} skipped (this run or before)",
            f"{self.frames_processed} frames in {self.seconds:.1f} s "
            f"({self.frames_per_sec:.0f} frames/s)",
        ]
        out += [f"skipped {i['id']}: {i['path']}: {i['message']}" for i in self.issues]
        if self.manifest is not None:
            totals = self.manifest["totals"]
            out.append(
                f"manifest: {totals['recordings']} recordings, {totals['windows']} windows, "
                f"{totals['bytes'] / 2**20:.1f} MiB = {totals['bytes_ratio']:.3f} x float32 "
                f"({totals['float32_bytes'] / 2**20:.1f} MiB)"
            )
        else:
            out.append("manifest: not yet complete (other shards still running)")
        return out


def list_dataset(
    source_name: str,
    root: str | Path,
    *,
    limit: int | None = None,
    source_options: Mapping[str, Any] | None = None,
) -> tuple[list[RecordingRef], list[DataIssue]]:
    """Recordings of a dataset sorted by id (first ``limit``), and listing problems."""
    report = DataReport(strict=False)
    refs = get_source(source_name).list_recordings(root, report=report, **(source_options or {}))
    refs = sorted(refs, key=lambda r: r.id)
    counts = Counter(r.id for r in refs)
    if len(counts) != len(refs):
        duplicates = sorted(i for i, c in counts.items() if c > 1)
        raise DatasetError(f"{root}: duplicate recording ids {duplicates[:5]}; rename the files")
    if limit is not None:
        refs = refs[: max(limit, 0)]
    return refs, list(report.issues)


def cache_dir_for(
    cache_root: str | Path,
    source_name: str,
    refs: Sequence[RecordingRef],
    cfg: PreprocessConfig,
    source_options: Mapping[str, Any] | None = None,
) -> Path:
    """``CACHE/<source>-<key>`` for these recordings under ``cfg``."""
    key = cache_key(cfg, source_name, [recording_identity(r) for r in refs], source_options)
    return Path(cache_root) / f"{source_name}-{key}"


def preprocess_dataset(
    source_name: str,
    root: str | Path,
    cache_root: str | Path,
    cfg: PreprocessConfig | None = None,
    *,
    workers: int = 1,
    shard: tuple[int, int] | None = None,
    strict: bool = False,
    limit: int | None = None,
    source_options: Mapping[str, Any] | None = None,
    progress: bool = True,
    on_issue: Callable[[str], object] | None = None,
) -> PreprocessSummary:
    """Preprocess this shard's recordings of a dataset into the cache (resuming).

    Args:
        shard: ``(K, N)``; ``None`` reads ``RANK``/``WORLD_SIZE`` (torchrun) or runs alone.
        strict: the first bad recording raises :class:`RecordingError` instead of being
            skipped and counted.
        on_issue: called with one line per skipped recording as it happens.
    """
    cfg = cfg or PreprocessConfig()
    k, n = shard if shard is not None else shard_from_env()
    started = time.perf_counter()
    refs, listing_issues = list_dataset(
        source_name, root, limit=limit, source_options=source_options
    )
    if strict and listing_issues:
        raise RecordingError(listing_issues[0])
    cache_dir = cache_dir_for(cache_root, source_name, refs, cfg, source_options)
    rec_root, skip_root = cache_dir / REC_DIR, cache_dir / SKIP_DIR
    rec_root.mkdir(parents=True, exist_ok=True)
    skip_root.mkdir(parents=True, exist_ok=True)
    description = {
        "cache_format": CACHE_FORMAT,
        "pipeline_version": PIPELINE_VERSION,
        "config": asdict(cfg),
        "source": source_name,
        "source_options": dict(source_options or {}),
        "root": str(root),
    }
    listing = {
        "recordings": [{"id": r.id, "subject": r.subject} for r in refs],
        "listing_issues": [_issue_dict(i) for i in listing_issues],
    }
    for name, data in ((CONFIG_FILE, description), (LISTING_FILE, listing)):
        if not (cache_dir / name).is_file():
            write_json_atomic(cache_dir / name, data, default=None)

    owned = [r for i, r in enumerate(refs) if i % n == k]
    summary = PreprocessSummary(cache_dir, (k, n), len(refs), len(owned))
    summary.issues.extend(_issue_dict(i) for i in listing_issues)
    jobs: list[_Job] = []
    for ref in owned:
        shutil.rmtree(rec_root / TMP_DIR / ref.id, ignore_errors=True)  # left by a killed run
        if (rec_root / ref.id / META_FILE).is_file():
            summary.n_reused += 1
            continue
        skipped = skip_root / f"{ref.id}.json"
        if skipped.is_file() and not strict:  # strict retries it (and fails if still bad)
            summary.n_skipped += 1
            summary.issues.append(read_json(skipped))
            continue
        # several worker processes already use the cores: one decoder thread each
        jobs.append(_Job(source_name, ref, cfg, str(rec_root), 1 if workers > 1 else 0))

    from tqdm.auto import tqdm

    bar = tqdm(total=len(jobs), unit="rec", desc="preprocess", disable=not progress or None)
    try:
        for result in _imap(jobs, workers):
            bar.update(1)
            if result["status"] == "done":
                summary.n_done += 1
                summary.frames_processed += int(result["decoded"])
                continue
            issue = result["issue"]
            if strict:
                raise RecordingError(DataIssue(issue["id"], issue["path"], issue["message"]))
            write_json_atomic(skip_root / f"{issue['id']}.json", issue, default=None)
            summary.n_skipped += 1
            summary.issues.append(issue)
            if on_issue is not None:
                on_issue(f"skipped {issue['id']}: {issue['path']}: {issue['message']}")
    finally:
        bar.close()
    summary.seconds = time.perf_counter() - started
    summary.manifest = merge_manifest(cache_dir)
    return summary


# ---------------------------------------------------------------------------- manifest
def merge_manifest(cache_dir: str | Path) -> dict[str, Any] | None:
    """Write ``manifest.json`` once every listed recording is finished or skipped.

    Returns the manifest, or ``None`` while some recording is still missing. Idempotent and
    deterministic: every shard may call it; the content depends only on the cache's files.
    """
    cache_dir = Path(cache_dir)
    listing = read_json(cache_dir / LISTING_FILE)
    description = read_json(cache_dir / CONFIG_FILE)
    recordings: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = list(listing["listing_issues"])
    for item in listing["recordings"]:
        meta_path = cache_dir / REC_DIR / item["id"] / META_FILE
        skip_path = cache_dir / SKIP_DIR / f"{item['id']}.json"
        if meta_path.is_file():
            meta = read_json(meta_path)
            recordings.append(
                {
                    key: meta[key]
                    for key in (
                        "id",
                        "subject",
                        "fps",
                        "n_frames",
                        "n_used",
                        "n_windows",
                        "bytes",
                        "float32_bytes",
                    )
                }
                | {"has_bvp": "bvp" in meta["files"], "has_resp": "resp" in meta["files"]}
            )
        elif skip_path.is_file():
            skipped.append(read_json(skip_path))
        else:
            return None
    total_bytes = sum(r["bytes"] for r in recordings)
    total_f32 = sum(r["float32_bytes"] for r in recordings)
    manifest = {
        **description,
        "recordings": recordings,
        "skipped": skipped,
        "totals": {
            "recordings": len(recordings),
            "skipped": len(skipped),
            "frames": sum(r["n_used"] for r in recordings),
            "windows": sum(r["n_windows"] for r in recordings),
            "bytes": total_bytes,
            "float32_bytes": total_f32,
            "bytes_ratio": total_bytes / total_f32 if total_f32 else 0.0,
        },
    }
    write_json_atomic(cache_dir / MANIFEST, manifest, default=None)
    return manifest


def load_manifest(cache_dir: str | Path) -> dict[str, Any]:
    """The manifest of a finished cache; a clear error when it is missing."""
    path = Path(cache_dir) / MANIFEST
    if not path.is_file():
        raise DatasetError(
            f"{path}: no cache manifest; run `bigsmall preprocess` (all shards) to finish it"
        )
    return read_json(path)


def write_fold_split(
    cache_dir: str | Path, fold_k: int, source_name: str, n_folds: int = 3, seed: int = 0
) -> dict[str, list[str]]:
    """Write ``fold{k}.json`` with the train/test ids of fold ``k`` (cached recordings only).

    BP4D+ uses the paper's subject lists; other sources a seeded subject-disjoint k-fold.
    Needs a finished cache (``manifest.json``).
    """
    from bigsmall.data.splits import fold_split, kfold_subject_split, split_by_test_subjects

    cache_dir = Path(cache_dir)
    listing = load_manifest(cache_dir)["recordings"]
    items = [_Subject(r["id"], r["subject"]) for r in listing]
    if source_name == "bp4d_plus":
        train, test = fold_split(items, fold_k)
    else:
        folds = kfold_subject_split([i.subject for i in items], n_folds, seed)
        if fold_k not in range(1, n_folds + 1):
            raise ConfigError(f"--fold must be 1..{n_folds}, got {fold_k}")
        train, test = split_by_test_subjects(items, folds[fold_k - 1])
    split = {"train": [i.id for i in train], "test": [i.id for i in test]}
    write_json_atomic(cache_dir / f"fold{fold_k}.json", split, default=None)
    return split


@dataclass(frozen=True)
class _Subject:
    id: str
    subject: str

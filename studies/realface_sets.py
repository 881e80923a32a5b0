"""The README's real-face evaluation sets, rebuilt the same way every time (a study).

Until now the sets were made by hand-picked calls of ``realface_videos.py`` whose photo lists
were not kept; this script fixes the recipe: which photos (drawn by seed from the 290 colour
photos of ``../shared/data/expressions``, whose 7 people the shipped weights never trained on),
which talking clips (``../shared/data/faces_motion``), and each video's draws (its own
generator, seeded by the set and its index), so that the same command rebuilds byte-identical
videos (same library versions) and ``realface_eval.py`` reads the same numbers.

- ``heldout``: the held-out check's recipe: 6 talking clips (d6 d9 d14 d10 d3 d13) and one
  animated photo of each of the 7 people, pulse 0.2–0.4 %, crf 16–28; 4 more photos animated
  without a pulse (breathing only).
- ``readable``: all 12 talking clips and 7 more photos, pulse 0.6–1.2 %, crf 14–22.
- ``static``: 23 further photos as static clips (camera noise only: no pulse, no motion).
- ``design``: for choosing rules, never the held-out set: the 6 talking clips ``heldout`` does
  not use (d0 d11 d12 d18 d19 d20), two more photos of each person, 4 without a pulse; the
  held-out recipe's pulse and encoding.
- ``fastbreath``: 14 more photos animated without a pulse, breathing at 22–28 /min (its
  harmonics in the heart band), the held-out recipe's encoding.

Every set draws 48–142 bpm, 6–28 /min (unless its recipe says otherwise), 1.5–3 px of
breathing, 30 s at 30 fps. A photo on which no face is found is passed over for the person's
next one (drawn in the same seeded order).

Usage: ``python studies/realface_sets.py OUT [--sets heldout readable static] [--workers 2]``
writes ``OUT/<set>/<video>.mp4`` and ``OUT/<set>/truth.csv``; then
``python studies/realface_eval.py OUT/heldout OUT/static``.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

import realface_videos as rv

EXPRESSIONS = rv.MOTION_DIR.parent / "expressions"
#: The order in which each person's photos are drawn.
PHOTO_SEED: int = 1000
ALL_TALKING = tuple(f"d{i}" for i in (0, 3, 6, 9, 10, 11, 12, 13, 14, 18, 19, 20))


@dataclass(frozen=True)
class SetRecipe:
    seed: int
    talking: tuple[str, ...] = ()
    stills_per_person: int = 0
    nopulse: int = 0
    static: int = 0
    pct: tuple[float, float] = rv.PCT_RANGE
    crf: tuple[int, int] = rv.CRF_RANGE
    br: tuple[float, float] = rv.BR_RANGE


#: In this order: a photo taken by an earlier set is not drawn again.
SETS: dict[str, SetRecipe] = {
    "heldout": SetRecipe(seed=1011, talking=rv.TALKING, stills_per_person=1, nopulse=4),
    "readable": SetRecipe(
        seed=1041, talking=ALL_TALKING, stills_per_person=1, pct=(0.6, 1.2), crf=(14, 22)
    ),
    "static": SetRecipe(seed=1061, static=23),
    # for choosing rules: the six talking clips the held-out set does not use, more photos
    "design": SetRecipe(
        seed=1081,
        talking=tuple(c for c in ALL_TALKING if c not in rv.TALKING),
        stills_per_person=2,
        nopulse=4,
    ),
    # breathing fast enough for its harmonics to fall in the heart band (2x from 22.5 /min)
    "fastbreath": SetRecipe(seed=1101, nopulse=14, br=(22.0, 28.0)),
}


def _has_face(path: Path) -> bool:
    photo = rv.read_image(path)
    first = rv.still_motion(photo, 1, np.random.default_rng(0))[0]
    return rv.find_face(first) is not None


class PhotoDraw:
    """The colour photos of each person in a seeded order, each handed out at most once."""

    def __init__(self, seed: int) -> None:
        labels = pd.read_csv(EXPRESSIONS / "labels.csv")
        colour = labels[labels["color"] == 1].sort_values("image")
        rng = np.random.default_rng(seed)
        self.queues = {
            person: list(rng.permutation(group["image"].to_numpy()))
            for person, group in sorted(colour.groupby("person"))
        }

    def next(self, person: str) -> Path | None:
        queue = self.queues[person]
        while queue:
            path = EXPRESSIONS / "images" / queue.pop(0)
            if _has_face(path):
                return path
        return None

    def people(self) -> list[str]:
        return list(self.queues)


def _jobs(recipe: SetRecipe, draw: PhotoDraw) -> list[tuple[str, str]]:
    jobs = [("talking", clip) for clip in recipe.talking]
    people = draw.people()
    for _ in range(recipe.stills_per_person):
        jobs += [("still", str(p)) for p in map(draw.next, people) if p is not None]
    order = np.random.default_rng([recipe.seed, 0]).permutation(len(people))
    for i in range(recipe.nopulse):
        photo = draw.next(people[order[i % len(people)]])
        if photo is not None:
            jobs.append(("nopulse", str(photo)))
    for i in range(recipe.static):
        photo = draw.next(people[i % len(people)])
        if photo is not None:
            jobs.append(("null", str(photo)))
    return jobs


def render(out: Path, recipe: SetRecipe, index: int, kind: str, src: str) -> tuple | None:
    """One video of the set (its own generator: the set's seed and its index); its truth row,
    or None where no face was found on its first second."""
    cv2.setNumThreads(1)
    rng = np.random.default_rng([recipe.seed, index])
    n = round(rv.SECONDS * rv.FS)
    if kind == "talking":
        frames = rv.talking_frames(src, n)
    else:
        photo = rv.read_image(src)
    name = f"{kind}_{Path(src).stem}"
    hr, br = rng.uniform(*rv.HR_RANGE_BPM), rng.uniform(*recipe.br)
    pct, amp = rng.uniform(*recipe.pct), rng.uniform(*rv.SHIFT_RANGE_PX)
    crf = int(rng.integers(recipe.crf[0], recipe.crf[1] + 1))
    if kind == "null":
        frames = rv.static_frames(photo, n, rng, 1.0)
        hr = br = pct = amp = 0.0
    else:
        if kind != "talking":
            frames = rv.still_motion(photo, n, rng)
        if kind == "nopulse":
            pct = 0.0
        try:
            frames, _, _ = rv.inject(frames, hr, br, pct, amp, rng)
        except SystemExit:  # no face on the first second: no video claims a pulse it lacks
            return None
        hr = hr if pct else 0.0
    rv.write(out / f"{name}.mp4", frames, crf)
    return (name, kind, round(hr, 2), round(br, 2), round(pct, 3), crf)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    draw = PhotoDraw(PHOTO_SEED)  # every set drawn in order, built or not
    draws = {name: _jobs(recipe, draw) for name, recipe in SETS.items()}
    for name in args.sets:
        recipe, jobs = SETS[name], draws[name]
        folder = args.out / name
        folder.mkdir(parents=True, exist_ok=True)
        # spawned, not forked: the face detectors' threads in this process would deadlock a fork
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(args.workers, mp_context=spawn) as pool:
            rows = list(
                pool.map(
                    render,
                    [folder] * len(jobs),
                    [recipe] * len(jobs),
                    range(len(jobs)),
                    *zip(*jobs, strict=True),
                )
            )
        with open(folder / "truth.csv", "w", newline="") as handle:
            csv.writer(handle).writerows(row for row in rows if row is not None)
        skipped = [src for row, (_, src) in zip(rows, jobs, strict=True) if row is None]
        print(
            f"{name}: {len(jobs) - len(skipped)} videos"
            + (f", no face: {skipped}" if skipped else "")
        )


if __name__ == "__main__":
    main()

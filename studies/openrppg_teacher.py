"""Could open-rppg's real-data models label the pulse of real talking clips? (a study;
docs/real-faces.md, session 26).

The issue names a real-data teacher: a model trained on real recordings (open-rppg's RLAP
models, MIT) labelling the real pulse every real face video carries. A teacher's label is worth
training on only where it is right; with no contact reference here, this runs several of
open-rppg's RLAP-trained models side by side on the same clips and prints, per clip, each
model's rate and SQI as JSON lines: where independent real-data models agree, a label exists;
where they scatter, none of them is a teacher. Run it on the raw ``shared/data/faces_motion``
clips (their own pulses) and on a ``realface_sets.py`` set with a known injected pulse (how often
each is right on real talking motion).

open-rppg needs JAX and Keras, which the project does not; it runs in its own environment:
``python -m venv /tmp/orppg && /tmp/orppg/bin/pip install open-rppg==0.1.1`` then
``/tmp/orppg/bin/python studies/openrppg_teacher.py FacePhys.rlap,ME-chunk.rlap VIDEO ...``.
"""

import json
import sys
import time

import rppg


def main(models: list[str], videos: list[str]) -> None:
    for name in models:
        start = time.time()
        model = rppg.Model(name)
        for video in videos:
            result = model.process_video(video) or {}
            rate, sqi = result.get("hr"), result.get("SQI")
            print(
                json.dumps(
                    {
                        "model": name,
                        "video": video.rsplit("/", 1)[-1],
                        "hr": None if rate is None else float(rate),
                        "sqi": None if sqi is None else float(sqi),
                    }
                ),
                flush=True,
            )
        print(json.dumps({"model": name, "sec": round(time.time() - start, 1)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1].split(","), sys.argv[2:])

"""Heart rates of open-rppg's pretrained models on the held-out real-face videos (side by side).

open-rppg (pip ``open-rppg``, MIT; models trained on the RLAP and PURE recordings) runs in its
own virtual environment (it needs JAX and Keras, which the project does not):
``python -m venv /tmp/orppg && /tmp/orppg/bin/pip install open-rppg==0.1.1`` then
``/tmp/orppg/bin/python studies/openrppg_eval.py DIR [DIR ...] --model ME-flow.rlap``.
Prints per video the rate and SQI and the MAE over the pulsed videos (every video gets a rate:
open-rppg reports one whatever its quality).
"""

import argparse
import csv
from pathlib import Path

import numpy as np
import rppg

parser = argparse.ArgumentParser()
parser.add_argument("folders", nargs="+", type=Path)
parser.add_argument("--model", default="ME-flow.rlap")
args = parser.parse_args()
model = rppg.Model(args.model)
errors, null_with_hr = [], 0
for folder in args.folders:
    for video, kind, hr_true, *_ in csv.reader(open(folder / "truth.csv")):
        result = model.process_video(str(folder / f"{video}.mp4")) or {}
        hr = result.get("hr")
        print(video, kind, hr_true, hr, result.get("SQI"), flush=True)
        if float(hr_true) == 0:  # no pulse in this video: any rate is invented
            null_with_hr += hr is not None
        elif hr is not None:
            errors.append(abs(float(hr) - float(hr_true)))
print(
    f"== {args.model}: HR MAE {np.mean(errors):.2f} on {len(errors)} pulsed videos; "
    f"videos without a pulse given a HR {null_with_hr}"
)

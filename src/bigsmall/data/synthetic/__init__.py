"""The built-in synthetic dataset: face videos with exact pulse, breathing and AU labels."""

from bigsmall.data.synthetic.generate import (
    CSV_COLUMNS,
    GENERATOR_VERSION,
    SynthConfig,
    generate_dataset,
    generate_video,
)

__all__ = ["CSV_COLUMNS", "GENERATOR_VERSION", "SynthConfig", "generate_dataset", "generate_video"]

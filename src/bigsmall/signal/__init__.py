"""1-D physiological signal processing: pure NumPy/SciPy functions with explicit ``fs``."""

"""Video in, frames/boxes/traces out (NumPy, OpenCV, PyAV; never torch)."""

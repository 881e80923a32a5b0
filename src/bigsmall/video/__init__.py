"""Video in, frames/boxes/traces out (NumPy, OpenCV, PyAV; never torch)."""

from bigsmall.video.boxes import Box, FaceTracker, largest_box, median_box
from bigsmall.video.crop import (
    BIG_SIZE_HW,
    bp4d_square_box,
    bp4d_square_crop,
    crop_resize,
    crop_resize_frames,
)
from bigsmall.video.face import (
    DETECTORS,
    FaceDetector,
    HaarCascadeDetector,
    create_detector,
    detect_largest_face,
)
from bigsmall.video.framing import CROP_MODES
from bigsmall.video.inputs import SMALL_SIZE_HW, BigSmallInputs, build_bigsmall_inputs
from bigsmall.video.io import (
    FrameBatch,
    FrameDirReader,
    StillImageReader,
    VideoClip,
    VideoInfo,
    VideoReader,
    open_video,
    read_all,
    read_frame_dir,
    read_image,
    read_video,
)
from bigsmall.video.normalize import (
    diff_normalize_frames,
    standardize_frames,
    uint8_to_unit_float,
)
from bigsmall.video.rgb import spatial_mean_rgb
from bigsmall.video.sinks import BigFrameSink, FileBigSink, MemoryBigSink

__all__ = [
    "BIG_SIZE_HW",
    "CROP_MODES",
    "DETECTORS",
    "SMALL_SIZE_HW",
    "BigFrameSink",
    "BigSmallInputs",
    "Box",
    "FaceDetector",
    "FaceTracker",
    "FileBigSink",
    "FrameBatch",
    "FrameDirReader",
    "HaarCascadeDetector",
    "MemoryBigSink",
    "StillImageReader",
    "VideoClip",
    "VideoInfo",
    "VideoReader",
    "bp4d_square_box",
    "bp4d_square_crop",
    "build_bigsmall_inputs",
    "create_detector",
    "crop_resize",
    "crop_resize_frames",
    "detect_largest_face",
    "diff_normalize_frames",
    "largest_box",
    "median_box",
    "open_video",
    "read_all",
    "read_frame_dir",
    "read_image",
    "read_video",
    "spatial_mean_rgb",
    "standardize_frames",
    "uint8_to_unit_float",
]

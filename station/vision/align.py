"""Landmark alignment: the one face crop that training and inference both feed the mask classifier.

A similarity transform (rotation, uniform scale, shift) maps YuNet's five landmarks onto a fixed template, so
eyes, nose and mouth land on the same pixels whatever the head's roll, size or position. The template is the
common 112 px five-point template, zoomed out so the crop keeps the forehead and the chin, where a mask pulled
down sits.
"""

from __future__ import annotations

import functools

import numpy as np

#: Side of the classifier's input crop.
CROP_SIZE_PX = 64

#: Five-point template in a 112 px square: right eye, left eye (as seen in the image: left, right), nose tip,
#: right and left mouth corners. YuNet returns its landmarks in this order.
_TEMPLATE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)

#: Below 1 the face is drawn smaller, leaving room for the forehead and the chin.
TEMPLATE_ZOOM = 0.8

#: Where the five landmarks of a tight face crop usually are, as fractions of its width and height (medians
#: over the training crops in which YuNet found the face). Used when YuNet finds no face in a crop.
TIGHT_CROP_LANDMARKS = (
    (0.3, 0.39),
    (0.69, 0.39),
    (0.5, 0.585),
    (0.315, 0.725),
    (0.65, 0.725),
)


@functools.lru_cache(maxsize=8)
def _template(size_px: int, pad_px: int) -> np.ndarray:
    unit = 0.5 + (_TEMPLATE_112 / 112.0 - 0.5) * TEMPLATE_ZOOM
    template = unit * size_px + pad_px
    template.flags.writeable = False
    return template


def template_px(size_px: int = CROP_SIZE_PX, pad_px: int = 0) -> np.ndarray:
    """Return the template landmarks in a crop of ``size_px`` with ``pad_px`` extra on every side.

    Args:
        size_px: Side of the aligned crop.
        pad_px: Extra context on each side; the face keeps its size and moves by ``pad_px``.

    Returns:
        A (5, 2) float array of pixel coordinates.
    """
    return _template(size_px, pad_px).copy()


def similarity_matrix(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (rotation, uniform scale, shift) taking ``src`` onto ``dst``.

    In two dimensions the least-squares solution (Umeyama's, without reflection) has a closed form: with
    both point sets centred, the matrix's first column is ``(a, b)`` where ``a = sum(x * u + y * v) / n``
    and ``b = sum(x * v - y * u) / n`` over source points ``(x, y)`` and destination points ``(u, v)``,
    ``n = sum(x * x + y * y)``.

    Args:
        src: (N, 2) points.
        dst: (N, 2) points.

    Returns:
        The 2x3 affine matrix.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    x, y = (src - src_mean).T
    u, v = (dst - dst_mean).T
    norm = float(x @ x + y @ y)
    if norm <= 0:
        a, b = 1.0, 0.0
    else:
        a, b = float(x @ u + y @ v) / norm, float(x @ v - y @ u) / norm
    return np.array(
        [
            [a, -b, dst_mean[0] - a * src_mean[0] + b * src_mean[1]],
            [b, a, dst_mean[1] - b * src_mean[0] - a * src_mean[1]],
        ]
    )


def align_face(
    image: np.ndarray, landmarks: np.ndarray, size_px: int = CROP_SIZE_PX, pad_px: int = 0
) -> np.ndarray:
    """Cut the aligned face crop out of ``image``.

    Large faces are first shrunk with area averaging, so a face seen from close up gives the same crop as a
    small one instead of an aliased one.

    Args:
        image: BGR image.
        landmarks: (5, 2) landmarks in ``image`` pixels, in YuNet's order.
        size_px: Side of the crop.
        pad_px: Extra context on each side (the crop is ``size_px + 2 * pad_px`` wide).

    Returns:
        The BGR crop.
    """
    import cv2

    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    template = _template(size_px, pad_px)
    matrix = similarity_matrix(points, template)
    out_px = size_px + 2 * pad_px
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    if scale < 0.7:
        # Shrink the region the crop comes from first, then warp at about the final scale.
        inverse = cv2.invertAffineTransform(matrix)
        corners = np.array([[0, 0, 1], [out_px, 0, 1], [0, out_px, 1], [out_px, out_px, 1]], dtype=np.float64)
        src_corners = corners @ inverse.T
        height, width = image.shape[:2]
        x0 = int(np.clip(np.floor(src_corners[:, 0].min()) - 2, 0, width - 1))
        y0 = int(np.clip(np.floor(src_corners[:, 1].min()) - 2, 0, height - 1))
        x1 = int(np.clip(np.ceil(src_corners[:, 0].max()) + 2, x0 + 1, width))
        y1 = int(np.clip(np.ceil(src_corners[:, 1].max()) + 2, y0 + 1, height))
        factor = min(1.0, scale * 1.4)
        roi = image[y0:y1, x0:x1]
        small = cv2.resize(
            roi,
            (max(1, round(roi.shape[1] * factor)), max(1, round(roi.shape[0] * factor))),
            interpolation=cv2.INTER_AREA,
        )
        fx, fy = small.shape[1] / roi.shape[1], small.shape[0] / roi.shape[0]
        shrunk = (points - [x0, y0]) * [fx, fy]
        matrix = similarity_matrix(shrunk, template)
        image = small
    return cv2.warpAffine(
        image, matrix, (out_px, out_px), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def tight_crop_landmarks(width_px: int, height_px: int) -> np.ndarray:
    """Landmarks assumed for a tight face crop in which no face was found.

    Args:
        width_px: Crop width.
        height_px: Crop height.

    Returns:
        (5, 2) landmarks in crop pixels.
    """
    return np.array(TIGHT_CROP_LANDMARKS, dtype=np.float64) * [width_px, height_px]

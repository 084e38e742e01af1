"""Augmentations against the data set's biases, on context crops (aligned crops with a margin).

The data set's ``incorrect`` masks are all the same light-blue synthetic mask, its bare faces are all real
photos, and it has no hands over faces, few small, dark or blurred faces. So:

* the mask region of masked faces is recoloured (hue, dark/black, white, patterned cloth);
* real bare faces get drawn masks of any colour, over the nose (``with_mask``) or below it (``incorrect``),
  so the class depends on where the mask sits, not on its colour or on whether the face is synthetic;
* real bare faces get a hand over the mouth and nose, still ``without_mask``;
* every crop gets alignment jitter, flips, light, blur, noise, JPEG and down-then-up scaling.

Context crops are ``CONTEXT_PX`` squared: the aligned crop of ``station.vision.align`` with ``PAD_PX`` on
each side, so geometric jitter never runs out of pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

from station.vision.align import CROP_SIZE_PX, template_px

#: Margin around the aligned crop in a context crop.
PAD_PX = 16
CONTEXT_PX = CROP_SIZE_PX + 2 * PAD_PX

_LANDMARKS = template_px(CROP_SIZE_PX, PAD_PX)
_EYE_Y = float(_LANDMARKS[:2, 1].mean())
_NOSE_Y = float(_LANDMARKS[2, 1])
_MOUTH_Y = float(_LANDMARKS[3:, 1].mean())
_CENTRE_X = float(_LANDMARKS[:, 0].mean())
_EYE_DIST = float(_LANDMARKS[1, 0] - _LANDMARKS[0, 0])
_CHIN_Y = _MOUTH_Y + 0.75 * (_MOUTH_Y - _EYE_Y)


def _rand_colour(rng: np.random.Generator) -> np.ndarray:
    """A mask colour in BGR: dark, light, saturated or grey, as masks come."""
    kind = rng.choice(["dark", "light", "saturated", "grey", "any"], p=[0.3, 0.15, 0.25, 0.1, 0.2])
    if kind == "dark":
        hsv = (rng.integers(0, 180), rng.integers(0, 200), rng.integers(5, 70))
    elif kind == "light":
        hsv = (rng.integers(0, 180), rng.integers(0, 80), rng.integers(170, 256))
    elif kind == "saturated":
        hsv = (rng.integers(0, 180), rng.integers(120, 256), rng.integers(80, 256))
    elif kind == "grey":
        hsv = (0, 0, rng.integers(40, 220))
    else:
        hsv = (rng.integers(0, 180), rng.integers(0, 256), rng.integers(0, 256))
    pixel = np.array([[hsv]], dtype=np.uint8)
    return cv2.cvtColor(pixel, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float32)


def fabric(rng: np.random.Generator, size_px: int) -> np.ndarray:
    """A mask fabric in BGR float [0, 255]: plain, striped, checked, dotted or noisy.

    Args:
        rng: Random generator.
        size_px: Side of the square patch.

    Returns:
        A (size_px, size_px, 3) float32 patch.
    """
    base = _rand_colour(rng)
    other = _rand_colour(rng)
    kind = rng.choice(["plain", "stripes", "checks", "dots", "noise"], p=[0.45, 0.15, 0.15, 0.1, 0.15])
    yy, xx = np.mgrid[0:size_px, 0:size_px].astype(np.float32)
    if kind == "plain":
        weight = np.zeros((size_px, size_px), np.float32)
    elif kind == "stripes":
        angle = rng.uniform(0, np.pi)
        period = rng.uniform(3, 10)
        weight = (np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period) > 0).astype(
            np.float32
        )
    elif kind == "checks":
        period = rng.uniform(3, 10)
        weight = ((np.floor(xx / period) + np.floor(yy / period)) % 2).astype(np.float32)
    elif kind == "dots":
        period = rng.uniform(4, 10)
        weight = (np.mod(xx, period) - period / 2) ** 2 + (np.mod(yy, period) - period / 2) ** 2 < (
            period / 4
        ) ** 2
        weight = weight.astype(np.float32)
    else:
        small = rng.random((max(2, size_px // 8), max(2, size_px // 8))).astype(np.float32)
        weight = cv2.resize(small, (size_px, size_px), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    return base[None, None, :] * (1 - weight[..., None]) + other[None, None, :] * weight[..., None]


def _luminance_shading(crop: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Relative lightness of each pixel in a region (1 = the region's mean), to keep folds and shadows."""
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).astype(np.float32)
    mean = float(gray[region > 0.5].mean()) if (region > 0.5).any() else float(gray.mean())
    return np.clip(gray / max(mean, 1.0), 0.55, 1.45)


def mask_region(crop: np.ndarray, top_y: float | None = None) -> np.ndarray:
    """Estimate which pixels of a masked face's lower half are mask: those far in colour from the forehead.

    Args:
        crop: BGR context crop.
        top_y: Highest row the mask may reach (default: a little below the eyes).

    Returns:
        Soft alpha in [0, 1], ``CONTEXT_PX`` squared.
    """
    lab = cv2.cvtColor(crop, cv2.COLOR_BGR2LAB).astype(np.float32)
    y0 = int(_EYE_Y - 0.9 * (_NOSE_Y - _EYE_Y) - 4)
    skin = lab[max(0, y0) : int(_EYE_Y - 3), int(_CENTRE_X - _EYE_DIST / 2) : int(_CENTRE_X + _EYE_DIST / 2)]
    reference = np.median(skin.reshape(-1, 3), axis=0)
    distance = np.sqrt((((lab - reference) * [0.6, 1.0, 1.0]) ** 2).sum(axis=2))
    top = _EYE_Y + 0.3 * (_NOSE_Y - _EYE_Y) if top_y is None else top_y
    area = np.zeros(crop.shape[:2], np.uint8)
    cv2.ellipse(
        area,
        (round(_CENTRE_X), round((top + _CHIN_Y + 6) / 2)),
        (round(_EYE_DIST * 1.25), round((_CHIN_Y + 6 - top) / 2)),
        0,
        0,
        360,
        1,
        -1,
    )
    area[: int(top)] = 0
    region = ((distance > 22) & (area > 0)).astype(np.uint8)
    region = cv2.morphologyEx(region, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    region = cv2.morphologyEx(region, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    return cv2.GaussianBlur(region.astype(np.float32), (5, 5), 0)


def _paint(crop: np.ndarray, alpha: np.ndarray, rng: np.random.Generator, shading: np.ndarray) -> np.ndarray:
    cloth = fabric(rng, crop.shape[0])
    painted = np.clip(cloth * shading[..., None], 0, 255)
    out = crop.astype(np.float32) * (1 - alpha[..., None]) + painted * alpha[..., None]
    return out.clip(0, 255).astype(np.uint8)


def recolour_mask(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Give the mask of a masked face another colour or fabric, keeping its shape and shading.

    Args:
        crop: BGR context crop of a masked face (``with_mask`` or ``incorrect``).
        rng: Random generator.

    Returns:
        The recoloured crop.
    """
    alpha = mask_region(crop)
    if alpha.sum() < 20:
        return crop
    shading = _luminance_shading(crop, alpha)
    if rng.random() < 0.3:
        hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV).astype(np.float32)
        hsv[..., 0] = (hsv[..., 0] + rng.uniform(20, 160)) % 180
        hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.3, 2.5) + rng.uniform(0, 40), 0, 255)
        hsv[..., 2] = np.clip(hsv[..., 2] * rng.uniform(0.25, 1.1), 0, 255)
        shifted = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR).astype(np.float32)
        out = crop.astype(np.float32) * (1 - alpha[..., None]) + shifted * alpha[..., None]
        return out.clip(0, 255).astype(np.uint8)
    return _paint(crop, alpha, rng, shading)


def draw_mask(crop: np.ndarray, rng: np.random.Generator, *, over_nose: bool) -> np.ndarray:
    """Draw a mask onto a bare face: over the nose (worn properly) or below it (worn wrong).

    Args:
        crop: BGR context crop of a bare face.
        rng: Random generator.
        over_nose: ``True`` for a mask covering nose and mouth; ``False`` for one under the nose or on
            the chin.

    Returns:
        The crop with a mask.
    """
    if over_nose:
        top = _EYE_Y + rng.uniform(0.25, 0.6) * (_NOSE_Y - _EYE_Y)
    elif rng.random() < 0.7:
        top = _NOSE_Y + rng.uniform(0.3, 0.7) * (_MOUTH_Y - _NOSE_Y)
    else:
        top = _MOUTH_Y + rng.uniform(-0.1, 0.35) * (_CHIN_Y - _MOUTH_Y)
    half_width = _EYE_DIST * rng.uniform(1.0, 1.3)
    bottom = _CHIN_Y + rng.uniform(-2, 5)
    cx = _CENTRE_X + rng.uniform(-2, 2)
    sag = rng.uniform(-1.5, 3.0)
    points = [
        (cx - half_width, top + sag + rng.uniform(0, 4)),
        (cx - half_width * 0.5, top + rng.uniform(-1, 1)),
        (cx, top - (rng.uniform(0, 4) if over_nose else rng.uniform(-1, 0.5))),
        (cx + half_width * 0.5, top + rng.uniform(-1, 1)),
        (cx + half_width, top + sag + rng.uniform(0, 4)),
        (cx + half_width * rng.uniform(0.9, 1.05), (top + bottom) / 2),
        (cx + half_width * 0.55, bottom - rng.uniform(1, 4)),
        (cx, bottom),
        (cx - half_width * 0.55, bottom - rng.uniform(1, 4)),
        (cx - half_width * rng.uniform(0.9, 1.05), (top + bottom) / 2),
    ]
    alpha = np.zeros(crop.shape[:2], np.float32)
    cv2.fillPoly(alpha, [np.round(np.array(points) * 4).astype(np.int32)], 1.0, cv2.LINE_AA, shift=2)
    alpha = cv2.GaussianBlur(alpha, (3, 3), 0)
    # Fabric shading: the face's own light, a vertical fall-off and, for surgical-style masks, pleats.
    shading = 0.5 + 0.5 * _luminance_shading(crop, alpha)
    yy = np.arange(crop.shape[0], dtype=np.float32)[:, None]
    shading = shading * (1.0 + rng.uniform(-0.25, 0.1) * (yy - top) / max(bottom - top, 1.0))
    if rng.random() < 0.4:
        pleats = 1 - 0.12 * (np.sin((yy - top) * 2 * np.pi / rng.uniform(4, 7)) > 0.7)
        shading = shading * pleats
    out = _paint(crop, alpha, rng, np.broadcast_to(shading, crop.shape[:2]).astype(np.float32))
    if rng.random() < 0.5:  # ear loops
        colour = tuple(float(c) for c in _rand_colour(rng))
        y_loop = round(top + rng.uniform(0, 4))
        for side in (-1, 1):
            start = (round(cx + side * half_width), y_loop)
            end = (round(cx + side * (half_width + rng.uniform(4, 10))), round(y_loop - rng.uniform(2, 8)))
            cv2.line(out, start, end, colour, 1, cv2.LINE_AA)
    return out


def draw_hand(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw a hand, in the face's own skin tone, over the mouth and nose of a bare face.

    Args:
        crop: BGR context crop of a bare face.
        rng: Random generator.

    Returns:
        The crop with a hand (still a bare face: ``without_mask``).
    """
    cheek = crop[
        int(_NOSE_Y) - 2 : int(_NOSE_Y) + 3, int(_CENTRE_X - _EYE_DIST) : int(_CENTRE_X - _EYE_DIST / 2)
    ]
    skin = np.median(cheek.reshape(-1, 3), axis=0).astype(np.float32) * rng.uniform(0.8, 1.2)
    skin = np.clip(skin + rng.normal(0, 8, 3), 0, 255)
    palm_centre = np.array(
        [_CENTRE_X + rng.uniform(-8, 8), rng.uniform(_NOSE_Y, _CHIN_Y - 2)], dtype=np.float64
    )
    angle = rng.uniform(-np.pi, np.pi)
    direction = np.array([np.cos(angle), np.sin(angle)])
    normal = np.array([-direction[1], direction[0]])
    palm = (rng.uniform(8, 13), rng.uniform(7, 10))
    alpha = np.zeros(crop.shape[:2], np.float32)
    cv2.ellipse(
        alpha,
        (round(palm_centre[0]), round(palm_centre[1])),
        (round(palm[0]), round(palm[1])),
        float(np.degrees(angle)),
        0,
        360,
        1.0,
        -1,
        cv2.LINE_AA,
    )
    finger_px = rng.uniform(3.0, 4.5)
    gaps = []
    for index in range(4):
        offset = (index - 1.5) * finger_px * 1.05
        base = palm_centre + direction * palm[0] * 0.7 + normal * offset
        tip = base + direction * rng.uniform(9, 16) + normal * rng.uniform(-1.5, 1.5)
        cv2.line(
            alpha,
            tuple(np.round(base).astype(int)),
            tuple(np.round(tip).astype(int)),
            1.0,
            max(2, round(finger_px)),
            cv2.LINE_AA,
        )
        gaps.append((base + normal * finger_px * 0.5, tip + normal * finger_px * 0.5))
    alpha = cv2.GaussianBlur(alpha, (3, 3), 0)
    yy, xx = np.mgrid[0 : crop.shape[0], 0 : crop.shape[1]].astype(np.float32)
    light = (
        1.0
        + rng.uniform(-0.25, 0.25)
        * ((xx - palm_centre[0]) * normal[0] + (yy - palm_centre[1]) * normal[1])
        / 15
    )
    hand = np.clip(skin[None, None, :] * light[..., None] + rng.normal(0, 4, crop.shape), 0, 255)
    out = crop.astype(np.float32) * (1 - alpha[..., None]) + hand * alpha[..., None]
    out = out.clip(0, 255).astype(np.uint8)
    shadow = tuple(float(c) for c in skin * 0.7)
    for start, end in gaps[:3]:
        cv2.line(
            out, tuple(np.round(start).astype(int)), tuple(np.round(end).astype(int)), shadow, 1, cv2.LINE_AA
        )
    return out


def fill_background(
    context: np.ndarray, valid: np.ndarray, background: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Replace the replicated edges of a tight source photo with other pixels, as a real scene would have.

    Most bare faces of the data set are tight crops whose context crop is mostly streaks of replicated edge
    pixels, while many masked ones come with real surroundings: without this, "streaks" would mean "bare".

    Args:
        context: BGR context crop.
        valid: Its mask of pixels from inside the photo (255).
        background: Another BGR context crop to take the surroundings from.
        rng: Random generator.

    Returns:
        The context crop on the new surroundings.
    """
    if valid.min() > 250:
        return context
    size = context.shape[0]
    shift = cv2.getRotationMatrix2D((size / 2, size / 2), rng.uniform(-30, 30), rng.uniform(1.0, 2.5))
    shift[:, 2] += rng.uniform(-size / 2, size / 2, 2)
    scene = cv2.warpAffine(background, shift, (size, size), borderMode=cv2.BORDER_REFLECT_101)
    if rng.random() < 0.5:
        scene = scene[:, ::-1]
    if rng.random() < 0.2:
        scene = np.full_like(context, rng.integers(0, 256, 3, dtype=np.uint8))
    alpha = cv2.GaussianBlur(valid.astype(np.float32) / 255.0, (5, 5), 0)[..., None]
    out = context.astype(np.float32) * alpha + scene.astype(np.float32) * (1 - alpha)
    return out.clip(0, 255).astype(np.uint8)


def photometric(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Light, colour and contrast as at a door: dim, backlit, tinted, grey.

    Args:
        crop: BGR crop.
        rng: Random generator.

    Returns:
        The changed crop.
    """
    out = crop.astype(np.float32) / 255.0
    if rng.random() < 0.8:
        out = out * rng.uniform(0.6, 1.3) + rng.uniform(-0.12, 0.12)
    if rng.random() < 0.3:  # low light
        out = np.clip(out, 0, 1) ** rng.uniform(1.3, 2.5) * rng.uniform(0.4, 0.9)
    if rng.random() < 0.3:
        out = out * rng.uniform(0.85, 1.15, 3)[None, None, :]
    if rng.random() < 0.3:
        mean = out.mean()
        out = (out - mean) * rng.uniform(0.5, 1.4) + mean
    if rng.random() < 0.1:
        gray = cv2.cvtColor(np.clip(out, 0, 1).astype(np.float32), cv2.COLOR_BGR2GRAY)
        out = np.repeat(gray[..., None], 3, axis=2)
    return (np.clip(out, 0, 1) * 255).astype(np.uint8)


def degrade(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Small, blurred, noisy, compressed faces.

    Args:
        crop: BGR aligned crop (``CROP_SIZE_PX`` squared).
        rng: Random generator.

    Returns:
        The degraded crop, same size.
    """
    size = crop.shape[0]
    out = crop
    if rng.random() < 0.5:  # a far face: fewer pixels, then blown up again
        small = int(rng.integers(18, 52))
        out = cv2.resize(out, (small, small), interpolation=cv2.INTER_AREA)
        out = cv2.resize(out, (size, size), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.35:
        if rng.random() < 0.5:
            out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.6, 1.8))
        else:  # motion blur
            length = int(rng.integers(3, 8))
            kernel = np.zeros((length, length), np.float32)
            kernel[length // 2, :] = 1.0 / length
            rotation = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1.0)
            kernel = cv2.warpAffine(kernel, rotation, (length, length))
            out = cv2.filter2D(out, -1, kernel / max(kernel.sum(), 1e-6))
    if rng.random() < 0.2:
        noisy = out.astype(np.float32) + rng.normal(0, rng.uniform(3, 12), out.shape)
        out = noisy.clip(0, 255).astype(np.uint8)
    if rng.random() < 0.35:
        ok, encoded = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(15, 80))])
        if ok:
            out = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    return out


def geometric(context: np.ndarray, rng: np.random.Generator, *, jitter: bool = True) -> np.ndarray:
    """Cut the aligned crop out of a context crop, with alignment jitter and a random mirror.

    Args:
        context: BGR context crop (``CONTEXT_PX`` squared).
        rng: Random generator.
        jitter: ``False`` cuts the plain aligned crop (validation).

    Returns:
        BGR crop of ``CROP_SIZE_PX`` squared.
    """
    centre = (CONTEXT_PX / 2, CONTEXT_PX / 2)
    if jitter:
        matrix = cv2.getRotationMatrix2D(centre, rng.uniform(-12, 12), rng.uniform(0.88, 1.12))
        matrix[:, 2] += rng.uniform(-3, 3, 2) - PAD_PX
    else:
        matrix = np.array([[1, 0, -PAD_PX], [0, 1, -PAD_PX]], dtype=np.float64)
    out = cv2.warpAffine(
        context, matrix, (CROP_SIZE_PX, CROP_SIZE_PX), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    if jitter and rng.random() < 0.5:
        out = out[:, ::-1]
    if jitter and rng.random() < 0.15:  # a tight source photo: its edges replicated
        top, bottom, left, right = (int(v) for v in rng.integers(0, 10, 4))
        inner = out[top : CROP_SIZE_PX - bottom, left : CROP_SIZE_PX - right]
        out = cv2.copyMakeBorder(inner, top, bottom, left, right, cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(out)

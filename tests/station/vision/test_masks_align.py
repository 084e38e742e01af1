"""Landmark alignment: the same crop whatever the face's position, size and roll."""

import cv2
import numpy as np
import pytest

from station.vision.align import (
    CROP_SIZE_PX,
    TIGHT_CROP_LANDMARKS,
    align_face,
    similarity_matrix,
    template_px,
    tight_crop_landmarks,
)


def transform(points, angle_deg, scale, shift):
    angle = np.radians(angle_deg)
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return points @ rotation.T + shift


@pytest.mark.parametrize(
    ("angle_deg", "scale", "shift"),
    [
        # identity
        (0.0, 1.0, (0.0, 0.0)),
        # a tilted head
        (20.0, 1.0, (5.0, -3.0)),
        # a far face: small and rolled the other way
        (-35.0, 0.3, (100.0, 40.0)),
        # a close face
        (5.0, 4.0, (-50.0, 10.0)),
    ],
)
def test_similarity_matrix_recovers_a_known_transform(angle_deg, scale, shift):
    src = template_px()
    dst = transform(src, angle_deg, scale, np.array(shift))
    matrix = similarity_matrix(src, dst)
    mapped = np.c_[src, np.ones(5)] @ matrix.T
    np.testing.assert_allclose(mapped, dst, atol=1e-6)


@pytest.mark.parametrize(
    "seed",
    [
        # landmarks a detector gives: the template moved, turned and jittered by a few pixels
        0,
        1,
        # a mirrored set: the best proper similarity still, never a reflection
        "mirrored",
    ],
)
def test_similarity_matrix_is_the_least_squares_similarity(seed):
    rng = np.random.default_rng(7 if seed == "mirrored" else seed)
    dst = template_px()
    src = transform(dst, rng.uniform(-30, 30), rng.uniform(0.3, 3), rng.uniform(-50, 50, 2))
    src = src + rng.normal(0, 2.0, src.shape)
    if seed == "mirrored":
        src[:, 0] *= -1
    matrix = similarity_matrix(src, dst)
    a, b = matrix[0, 0], matrix[1, 0]
    # no shear, no reflection
    assert matrix[0, 1] == pytest.approx(-b)
    assert matrix[1, 1] == pytest.approx(a)
    # the same four parameters (a, b, tx, ty) as a generic least-squares solve of u = a x - b y + tx,
    # v = b x + a y + ty
    rows = np.zeros((10, 4))
    rows[0::2] = np.c_[src[:, 0], -src[:, 1], np.ones(5), np.zeros(5)]
    rows[1::2] = np.c_[src[:, 1], src[:, 0], np.zeros(5), np.ones(5)]
    solution, *_ = np.linalg.lstsq(rows, dst.reshape(-1), rcond=None)
    np.testing.assert_allclose([a, b, matrix[0, 2], matrix[1, 2]], solution, atol=1e-9)


def dots_image(landmarks, size=(400, 300), radius=3):
    image = np.zeros((size[1], size[0], 3), np.uint8)
    for x, y in landmarks:
        cv2.circle(image, (round(x), round(y)), radius, (255, 255, 255), -1)
    return image


def bright_centres(crop):
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    _, _, _, centres = cv2.connectedComponentsWithStats((gray > 60).astype(np.uint8))
    return sorted(centres[1:].tolist())


@pytest.mark.parametrize(
    ("angle_deg", "scale", "shift", "radius"),
    [
        # a face about the crop's size
        (0.0, 1.0, (150.0, 100.0), 2),
        # rolled 25 degrees
        (25.0, 1.5, (150.0, 80.0), 3),
        # a close face, four times larger: taken through the area-averaged shrink
        (-10.0, 4.0, (60.0, 10.0), 8),
    ],
)
def test_landmarks_land_on_the_template(angle_deg, scale, shift, radius):
    landmarks = transform(template_px(), angle_deg, scale, np.array(shift))
    image = dots_image(landmarks, size=(600, 500), radius=radius)
    crop = align_face(image, landmarks)
    assert crop.shape == (CROP_SIZE_PX, CROP_SIZE_PX, 3)
    found = np.array(bright_centres(crop))
    expected = np.array(sorted(template_px().tolist()))
    assert found.shape == expected.shape
    np.testing.assert_allclose(found, expected, atol=1.0)


def test_padding_keeps_the_face_and_adds_context():
    landmarks = transform(template_px(), 10.0, 2.0, np.array([100.0, 60.0]))
    image = dots_image(landmarks, size=(500, 400), radius=4)
    plain = align_face(image, landmarks)
    padded = align_face(image, landmarks, pad_px=16)
    assert padded.shape == (CROP_SIZE_PX + 32, CROP_SIZE_PX + 32, 3)
    # the same pixels, up to the rounding of the area-averaged shrink of a larger region (at the dots'
    # sharp edges a pixel can differ by a few grey levels more)
    difference = np.abs(padded[16:-16, 16:-16].astype(int) - plain.astype(int))
    assert difference.mean() < 0.5
    assert (difference > 0).mean() < 0.05
    # and the landmarks land on the same pixels, 16 px further in
    np.testing.assert_allclose(
        np.array(bright_centres(padded)) - 16, np.array(bright_centres(plain)), atol=0.25
    )


@pytest.mark.parametrize(
    ("width", "height"),
    [
        # square crop
        (100, 100),
        # tall crop
        (80, 120),
    ],
)
def test_tight_crop_landmarks_scale_with_the_crop(width, height):
    points = tight_crop_landmarks(width, height)
    np.testing.assert_allclose(points / [width, height], TIGHT_CROP_LANDMARKS)
    # eyes above the nose, the nose above the mouth
    assert points[:2, 1].max() < points[2, 1] < points[3:, 1].min()

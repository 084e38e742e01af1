"""YuNet through cv2.FaceDetectorYN: output conversion, and faces found in real photos."""

import dataclasses

import cv2
import numpy as np
import pytest
from mask_samples import paste_scene, shared_image

from station.vision.faces import DEFAULT_SCORE_THRESHOLD, Face, FaceDetector, box_iou, faces_from_yunet
from station.vision.models import ModelError, ModelSpec, ModelStore


def yunet_row(x, y, w, h, score):
    landmarks = [x + 0.3 * w, y + 0.4 * h, x + 0.7 * w, y + 0.4 * h, x + 0.5 * w, y + 0.6 * h]
    landmarks += [x + 0.35 * w, y + 0.8 * h, x + 0.65 * w, y + 0.8 * h]
    return [x, y, w, h, *landmarks, score]


@pytest.mark.parametrize(
    ("rows", "expected_boxes", "expected_scores"),
    [
        # no face: YuNet returns None
        (None, [], []),
        # one face: (x, y, w, h) becomes (x1, y1, x2, y2)
        (np.array([yunet_row(10, 20, 30, 40, 0.9)]), [(10, 20, 40, 60)], [0.9]),
        # two faces come back highest score first
        (
            np.array([yunet_row(0, 0, 10, 10, 0.7), yunet_row(50, 50, 20, 20, 0.95)]),
            [(50, 50, 70, 70), (0, 0, 10, 10)],
            [0.95, 0.7],
        ),
    ],
)
def test_faces_from_yunet(rows, expected_boxes, expected_scores):
    faces = faces_from_yunet(None if rows is None else rows.astype(np.float32))
    assert [face.box for face in faces] == [pytest.approx(box) for box in expected_boxes]
    assert [face.score for face in faces] == pytest.approx(expected_scores)
    for face in faces:
        assert len(face.landmarks) == 5


def test_face_is_frozen_and_shifts():
    face = faces_from_yunet(np.array([yunet_row(10, 20, 30, 40, 0.9)], np.float32))[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        face.score = 0.1
    moved = face.shifted(-10, -20)
    assert moved.box == pytest.approx((0, 0, 30, 40))
    assert moved.landmarks[0] == pytest.approx((face.landmarks[0][0] - 10, face.landmarks[0][1] - 20))
    assert moved.width_px == pytest.approx(30)


def test_finds_every_face_of_a_scene(detector):
    photos = [shared_image(name) for name in ("with_mask/rwmfd_0", "without_mask/fmd_0", "incorrect/mfn_0")]
    faces = detector.detect(paste_scene(photos, face_px=120))
    assert len(faces) == 3
    # left to right, each face within its photo's column of the frame
    for face in faces:
        right_eye, left_eye, nose, right_mouth, left_mouth = face.landmarks
        assert right_eye[0] < left_eye[0]
        assert max(right_eye[1], left_eye[1]) < nose[1] < min(right_mouth[1], left_mouth[1])
        x1, y1, x2, y2 = face.box
        assert x1 < nose[0] < x2
        assert y1 < nose[1] < y2


def test_no_face_in_a_blank_frame(detector):
    assert detector.detect(np.full((240, 320, 3), 90, np.uint8)) == []


@pytest.mark.parametrize(
    "name",
    [
        # a tight crop of a bare face
        "without_mask/fmd_3",
        # a masked face cut out by YuNet before
        "with_mask/rwmfd_5",
    ],
)
def test_find_in_crop_returns_the_face_in_crop_coordinates(detector, name):
    crop = shared_image(name)
    face = detector.find_in_crop(crop)
    assert isinstance(face, Face)
    nose_x, nose_y = face.landmarks[2]
    height, width = crop.shape[:2]
    assert 0.2 * width < nose_x < 0.8 * width
    assert 0.2 * height < nose_y < 0.9 * height


def test_detector_reports_a_missing_model_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("GERBANG_MODEL_DIR", raising=False)
    missing = ModelSpec("face.onnx", "a" * 64, ((tmp_path / "no" / "face.onnx").as_uri(),))
    monkeypatch.setattr("station.vision.faces.YUNET", missing)
    with pytest.raises(ModelError, match=r"face\.onnx"):
        FaceDetector(store=ModelStore(tmp_path / "models"))


def test_a_small_image_is_enlarged_and_faces_come_back_in_its_own_pixels(detector):
    photos = [shared_image(name) for name in ("with_mask/rwmfd_0", "without_mask/fmd_0", "incorrect/mfn_0")]
    small = paste_scene(photos, face_px=60, size=(320, 240))
    found = detector.detect(small)
    # the same frame enlarged by hand (to the detector's long side): the same faces, scaled back
    factor = detector.min_long_side_px / 320
    by_hand = detector.detect(
        cv2.resize(small, None, fx=factor, fy=factor, interpolation=cv2.INTER_LINEAR), enlarge=False
    )
    assert len(found) == len(by_hand) == 3
    for face, big in zip(found, by_hand, strict=True):
        assert face.box == pytest.approx(tuple(v / factor for v in big.box), abs=1e-3)
        assert all(0 <= x <= 320 and 0 <= y <= 240 for x, y in face.landmarks)


@pytest.mark.parametrize(
    ("size", "enlarged"),
    [
        # under 576 px on the long side: enlarged (twice at most)
        ((320, 240), True),
        # the usual street photo: enlarged a little
        ((512, 366), True),
        # 576 px or more: detected as it is
        ((576, 432), False),
        ((640, 480), False),
    ],
)
def test_enlarging_only_small_images(detector, size, enlarged):
    frame = np.full((size[1], size[0], 3), 128, np.uint8)
    detector.detect(frame)
    assert (detector._size != size) is enlarged  # the input size the network was set to


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # the same box
        ((0, 0, 10, 10), (0, 0, 10, 10), 1.0),
        # boxes apart
        ((0, 0, 10, 10), (20, 20, 30, 30), 0.0),
        # touching at an edge only
        ((0, 0, 10, 10), (10, 0, 20, 10), 0.0),
        # half of each overlaps: 50 / (100 + 100 - 50)
        ((0, 0, 10, 10), (5, 0, 15, 10), 1 / 3),
        # a box inside another four times its area
        ((0, 0, 20, 20), (5, 5, 15, 15), 0.25),
        # empty boxes never overlap
        ((0, 0, 0, 0), (0, 0, 0, 0), 0.0),
    ],
)
def test_box_iou(a, b, expected):
    assert box_iou(a, b) == pytest.approx(expected)
    assert box_iou(b, a) == pytest.approx(expected)


SMALL_MASKED = [
    # a masked face about 35 px wide, which YuNet scores 0.36 at the frame's own scale
    "with_mask/rwmfd_3",
    # another, scored 0.24 at the frame's own scale
    "with_mask/rwmfd_6",
]


@pytest.mark.parametrize("name", SMALL_MASKED)
def test_a_small_masked_face_is_found_by_the_second_look(detector, name):
    photo = shared_image(name)
    frame = paste_scene([photo], face_px=40)
    found = detector.detect(frame)
    assert len(found) == 1
    face = found[0]
    assert face.score >= DEFAULT_SCORE_THRESHOLD
    # box and landmarks are in the frame's pixels, on the pasted photo (at x 20, centred vertically)
    height, width = (
        round(photo.shape[0] * 40 / max(photo.shape[:2])),
        round(photo.shape[1] * 40 / max(photo.shape[:2])),
    )
    top = (480 - height) // 2
    nose_x, nose_y = face.landmarks[2]
    assert 20 < nose_x < 20 + width
    assert top < nose_y < top + height
    x1, y1, x2, y2 = face.box
    assert x1 < nose_x < x2
    assert y1 < nose_y < y2
    assert 20 <= face.width_px <= 60


@pytest.mark.parametrize(
    ("settings", "verify"),
    [
        # no candidates at all
        ({"candidate_threshold": 0}, True),
        # candidates, but none looked at
        ({"max_candidates": 0}, True),
        # the second look turned off for one call
        ({}, False),
    ],
)
@pytest.mark.parametrize("name", SMALL_MASKED)
def test_without_the_second_look_the_unsure_face_is_dropped(models_dir, settings, verify, name):
    detector = FaceDetector(store=ModelStore(models_dir, download=False), **settings)
    frame = paste_scene([shared_image(name)], face_px=40)
    assert detector.detect(frame, verify=verify) == []


def test_every_face_returned_scores_the_threshold(models_dir):
    photos = [shared_image(name) for name in ("with_mask/rwmfd_3", "without_mask/fmd_0", "with_mask/rwmfd_6")]
    frame = paste_scene(photos, face_px=40)
    for threshold in (0.5, 0.7, 0.9):
        detector = FaceDetector(store=ModelStore(models_dir, download=False), score_threshold=threshold)
        faces = detector.detect(frame)
        assert all(face.score >= threshold for face in faces)
        assert [face.score for face in faces] == sorted((face.score for face in faces), reverse=True)


@pytest.mark.parametrize(
    ("face_px", "works"),
    [
        # the smallest face YuNet's second look can use
        (16, True),
        # too small a face for YuNet: refused at once, not silently never found
        (8, False),
    ],
)
def test_the_second_look_face_size_is_checked(models_dir, face_px, works):
    store = ModelStore(models_dir, download=False)
    if works:
        assert FaceDetector(store=store, verify_face_px=face_px).verify_face_px == face_px
    else:
        with pytest.raises(ValueError, match="verify_face_px"):
            FaceDetector(store=store, verify_face_px=face_px)

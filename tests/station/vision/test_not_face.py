"""What is not a face is not acted on: the not_face output, and the proxy that counts the rest."""

import numpy as np
import pytest
from mask_samples import SHARED, shared_image

from station.vision.faces import Face
from station.vision.masks import NETWORK_OUTPUTS, MaskClassifier, MaskDetector, MaskLabel, MaskVerdict
from station.vision.training.negatives import HOLDOUT_CLIPS, MINE_CLIPS, false_detections

VIDEO = SHARED / "datasets" / "video"
needs_video = pytest.mark.skipif(not VIDEO.is_dir(), reason="the shared clips are not here")


def face(x1, score=0.7):
    return Face(box=(x1, 10.0, x1 + 40.0, 60.0), score=score, landmarks=((0.0, 0.0),) * 5)


class Detector:
    """Finds the faces it is given."""

    def __init__(self, faces):
        self.faces = faces

    def detect(self, image):
        return list(self.faces)


class Classifier:
    """Says each face's not_face probability is the one it is given."""

    def __init__(self, not_face):
        self.not_face = not_face

    def classify_faces(self, image, faces):
        return [
            MaskVerdict(MaskLabel.WITH_MASK, 0.9, (0.9, 0.05, 0.05), not_face=p)
            for p in self.not_face[: len(faces)]
        ]


@pytest.mark.parametrize(
    ("not_face", "not_face_min", "scores", "kept"),
    [
        # a face, and something the classifier is sure is none: the second is dropped
        ((0.02, 0.97), 0.5, (0.7, 0.7), [0]),
        # on the line: dropped
        ((0.5, 0.49), 0.5, (0.7, 0.7), [1]),
        # above 1: nothing is dropped (the previous behaviour)
        ((0.02, 0.97), 2.0, (0.7, 0.7), [0, 1]),
        # YuNet sure of it (0.9): kept whatever the classifier says
        ((0.02, 0.97), 0.5, (0.7, 0.9), [0, 1]),
    ],
)
def test_detections_the_classifier_calls_no_face_are_dropped(not_face, not_face_min, scores, kept):
    faces = [face(0.0, scores[0]), face(100.0, scores[1])]
    pipeline = MaskDetector(Detector(faces), Classifier(not_face), not_face_min=not_face_min)
    found = pipeline.detect(np.zeros((100, 200, 3), np.uint8))
    assert [item.face for item in found] == [faces[i] for i in kept]


def test_the_committed_model_has_a_not_face_output(classifier):
    crops = [np.zeros((64, 64, 3), np.uint8)]
    assert classifier.network_outputs(crops).shape == (1, NETWORK_OUTPUTS)


@pytest.mark.parametrize(
    "name",
    [
        # real faces of every class and source are faces
        "with_mask/fmd_3",
        "with_mask/rwmfd_5",
        "with_mask/mfn_2",
        "without_mask/fmd_7",
        "incorrect/mfn_4",
    ],
)
def test_real_faces_are_kept(mask_detector, name):
    verdict = mask_detector.classify_crop(shared_image(name))
    assert verdict.not_face < 0.5


def test_the_held_out_clips_were_never_mined():
    assert not set(HOLDOUT_CLIPS) & set(MINE_CLIPS)


@needs_video
def test_false_detections_are_counted_per_frame_by_width():
    # a fake pipeline that finds one 40 px and one 70 px "face" in every frame
    figures = false_detections(lambda image: [(0, 0, 40, 40), (0, 0, 70, 70)], VIDEO, every=25)
    for name in (*HOLDOUT_CLIPS, "all"):
        assert figures[name]["frames"] > 0
        assert figures[name]["per_frame"] == 2
        assert figures[name]["per_frame_32px"] == 2
        assert figures[name]["per_frame_64px"] == 1


@needs_video
def test_few_false_detections_on_the_held_out_clips(mask_detector):
    # overhead door and crowd clips: no face is visible, every detection acted on is a false one
    figures = false_detections(lambda image: [i.face.box for i in mask_detector.detect(image)], VIDEO, 10)
    assert figures["all"]["per_frame_32px"] <= 0.05


class Scripted(MaskClassifier):
    """The committed classifier's settings, with the network's outputs given: first look, then mirrored."""

    def __init__(self, first, mirrored):
        super().__init__()
        self.rows = [np.array([first], np.float32), np.array([mirrored], np.float32)]
        self.calls = 0

    def network_outputs(self, images):
        self.calls += 1
        return self.rows[self.calls - 1].copy()


@pytest.mark.parametrize(
    ("first", "mirrored", "calls", "not_face"),
    [
        # sure of the mask, unsure whether a face (0.6): looked at again, the two looks averaged
        ((0.38, 0.01, 0.01, 0.6), (0.78, 0.01, 0.01, 0.2), 2, 0.4),
        # sure of both: one look
        ((0.95, 0.02, 0.02, 0.01), (0.0, 0.0, 0.0, 1.0), 1, 0.01),
        # sure it is no face: one look
        ((0.08, 0.005, 0.005, 0.91), (0.0, 0.0, 0.0, 0.0), 1, 0.91),
    ],
)
def test_unsure_whether_a_face_looks_again_mirrored(first, mirrored, calls, not_face):
    classifier = Scripted(first, mirrored)
    _, got = classifier.looks([np.zeros((64, 64, 3), np.uint8)])
    assert classifier.calls == calls
    assert got[0] == pytest.approx(not_face)

"""``gerbang masks detect|classify|eval``: the JSON lines and reports other tools read."""

import json
import shutil

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from mask_samples import paste_scene, shared_image

from station.vision.cli import format_report, image_paths, masks
from station.vision.masks import confusion_matrix
from station.vision.models import ModelSpec

SCENE_NAMES = ["with_mask/rwmfd_0", "without_mask/fmd_0", "incorrect/mfn_0"]


@pytest.fixture(autouse=True)
def shared_models(monkeypatch, models_dir, tmp_path):
    """The model store finds YuNet in ../shared/models through the environment, never downloads."""
    monkeypatch.setenv("GERBANG_MODEL_DIR", str(models_dir))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def scene_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scenes")
    cv2.imwrite(str(folder / "three.jpg"), paste_scene([shared_image(n) for n in SCENE_NAMES], face_px=130))
    cv2.imwrite(str(folder / "empty.png"), paste_scene([], face_px=100))
    (folder / "notes.txt").write_text("not an image")
    return folder


def json_lines(result):
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_detect_json_one_line_per_image(scene_dir):
    result = CliRunner().invoke(masks, ["detect", str(scene_dir), "--json"])
    lines = json_lines(result)
    # the folder's two images, sorted; the text file is skipped
    assert [line["image"] for line in lines] == [str(scene_dir / "empty.png"), str(scene_dir / "three.jpg")]
    empty, three = lines
    assert empty["faces"] == []
    assert set(three) == {"image", "faces", "ms"}
    assert three["ms"] > 0
    faces = sorted(three["faces"], key=lambda face: face["box"][0])
    assert [face["label"] for face in faces] == ["with_mask", "without_mask", "incorrect"]
    for face in faces:
        assert set(face) == {"box", "score", "label", "label_score"}
        x1, y1, x2, y2 = face["box"]
        assert 0 <= x1 < x2 <= 640
        assert 0 <= y1 < y2 <= 480
        assert 0 < face["score"] <= 1
        assert 1 / 3 < face["label_score"] <= 1


def test_detect_text_output(scene_dir):
    result = CliRunner().invoke(masks, ["detect", str(scene_dir / "three.jpg")])
    assert result.exit_code == 0
    assert "3 face(s)" in result.stdout
    assert "without_mask" in result.stdout


def test_classify_json(tmp_path):
    paths = []
    for name in SCENE_NAMES:
        path = tmp_path / f"{name.replace('/', '-')}.jpg"
        cv2.imwrite(str(path), shared_image(name))
        paths.append(str(path))
    lines = json_lines(CliRunner().invoke(masks, ["classify", *paths, "--json"]))
    assert [line["image"] for line in lines] == paths
    assert [line["label"] for line in lines] == ["with_mask", "without_mask", "incorrect"]
    assert all(set(line) == {"image", "label", "score"} and 0 < line["score"] <= 1 for line in lines)


def classify_scores(path, *options):
    lines = json_lines(CliRunner().invoke(masks, ["classify", str(path), "--json", *options]))
    return lines[0]


@pytest.mark.parametrize(
    ("options", "effect"),
    [
        # the default is no prior (the network's own probabilities), given or not
        (["--prior", "none"], "same"),
        # the door prior, a site policy: a mask worn properly is surer
        (["--prior", "0.75,0.18,0.07"], "higher"),
        # a site where masks are rare: less sure
        (["--prior", "0.2,0.6,0.2"], "lower"),
    ],
)
def test_classify_prior_option(tmp_path, options, effect):
    path = tmp_path / "masked.jpg"
    cv2.imwrite(str(path), shared_image("with_mask/rwmfd_0"))
    default = classify_scores(path)
    changed = classify_scores(path, *options)
    assert default["label"] == changed["label"] == "with_mask"
    if effect == "same":
        assert changed["score"] == default["score"]
    elif effect == "higher":
        assert changed["score"] > default["score"]
    else:
        assert changed["score"] < default["score"]


@pytest.mark.parametrize(
    "value",
    [
        # two shares for three classes
        "0.5,0.5",
        # a zero share
        "0.9,0.1,0",
        # not numbers
        "masked",
    ],
)
def test_a_bad_prior_is_refused_with_the_classes_named(tmp_path, value):
    path = tmp_path / "masked.jpg"
    cv2.imwrite(str(path), shared_image("with_mask/rwmfd_0"))
    result = CliRunner().invoke(masks, ["classify", str(path), "--prior", value])
    assert result.exit_code == 2
    assert "with_mask, without_mask, incorrect" in result.stderr
    assert "Traceback" not in result.output


def test_unreadable_image_is_reported_and_fails(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    result = CliRunner().invoke(masks, ["classify", str(bad), "--json"])
    assert result.exit_code == 1
    assert "cannot read" in result.stderr


def test_eval_prints_accuracy_per_class_figures_and_confusion(tmp_path, masks_dir):
    for label in ("with_mask", "without_mask", "incorrect"):
        (tmp_path / label).mkdir()
        for path in sorted((masks_dir / label).glob("*.jpg"))[:3]:
            shutil.copy(path, tmp_path / label / path.name)
    result = CliRunner().invoke(masks, ["eval", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "images: 9" in result.stdout
    assert "accuracy: " in result.stdout
    assert "confusion matrix" in result.stdout
    for label in ("with_mask", "without_mask", "incorrect"):
        assert label in result.stdout


def test_eval_of_an_empty_folder_fails_clearly(tmp_path):
    result = CliRunner().invoke(masks, ["eval", str(tmp_path)])
    assert result.exit_code != 0
    assert "no images" in result.output


def test_missing_model_offline_says_what_to_download(tmp_path, monkeypatch, scene_dir):
    monkeypatch.delenv("GERBANG_MODEL_DIR")
    offline = ModelSpec("face.onnx", "b" * 64, ((tmp_path / "offline" / "face.onnx").as_uri(),))
    monkeypatch.setattr("station.vision.faces.YUNET", offline)
    result = CliRunner().invoke(masks, ["detect", str(scene_dir / "three.jpg"), "--model-dir", str(tmp_path)])
    assert result.exit_code == 1
    for needed in ("face.onnx", "b" * 64, offline.urls[0], str(tmp_path)):
        assert needed in result.output


def test_model_dir_option_is_searched_first(tmp_path, models_dir, scene_dir, monkeypatch):
    monkeypatch.setenv("GERBANG_MODEL_DIR", str(tmp_path / "nothing-here"))
    result = CliRunner().invoke(
        masks, ["detect", str(scene_dir / "three.jpg"), "--json", "--model-dir", str(models_dir)]
    )
    assert len(json_lines(result)[0]["faces"]) == 3


@pytest.mark.parametrize(
    ("matrix", "accuracy", "rows"),
    [
        # perfect: every precision and recall 1
        (
            [[2, 0, 0], [0, 1, 0], [0, 0, 1]],
            "1.0000",
            {"with_mask": ["1.0000", "1.0000", "2"], "incorrect": ["1.0000", "1.0000", "1"]},
        ),
        # a bare face called masked: with_mask precision 0.5; nothing called bare, so no precision there
        (
            [[1, 0, 0], [1, 0, 0], [0, 0, 0]],
            "0.5000",
            {"with_mask": ["0.5000", "1.0000", "1"], "without_mask": ["-", "0.0000", "1"]},
        ),
    ],
)
def test_format_report(matrix, accuracy, rows):
    lines = format_report(np.array(matrix)).splitlines()
    assert f"accuracy: {accuracy}" in lines
    assert f"images: {sum(map(sum, matrix))}" in lines
    table = {line.split()[0]: line.split()[1:] for line in lines[4:7]}
    for label, expected in rows.items():
        assert table[label] == expected
    # the confusion matrix's rows, as given
    assert [list(map(int, line.split()[1:])) for line in lines[-3:]] == matrix


def test_image_paths_keeps_files_and_expands_folders(scene_dir):
    listed = list(image_paths([scene_dir / "three.jpg", scene_dir]))
    assert listed == [scene_dir / "three.jpg", scene_dir / "empty.png", scene_dir / "three.jpg"]
    assert confusion_matrix([], []).sum() == 0

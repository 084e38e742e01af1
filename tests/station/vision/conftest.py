"""Fixtures of the vision tests: the shared models and data set (repo_root/../shared), a detector."""

from pathlib import Path

import pytest
from mask_samples import MASKS, MODELS

from station.vision.faces import FaceDetector
from station.vision.masks import MaskClassifier, MaskDetector
from station.vision.models import ModelStore


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS


@pytest.fixture(scope="session")
def masks_dir() -> Path:
    return MASKS


@pytest.fixture(scope="session")
def detector() -> FaceDetector:
    return FaceDetector(store=ModelStore(MODELS, download=False))


@pytest.fixture(scope="session")
def classifier() -> MaskClassifier:
    return MaskClassifier()


@pytest.fixture(scope="session")
def mask_detector(detector, classifier) -> MaskDetector:
    return MaskDetector(detector, classifier)

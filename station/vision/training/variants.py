"""``python -m station.vision.training.variants``: validation figures of the classifier as the station runs.

Training reports the network alone (one look, its own probabilities). This measures the classifier as
``MaskClassifier`` runs at the station: a prior (none by default), the mirrored look when unsure, and the
decision leaning to safety (``--with-mask-min``, ``mask_rule.decide``); on the plain validation crops and
on the same synthetic hard variants of them as training (recoloured masks, hands over bare faces, masks
drawn below and over the nose, small faces), so priors and rules can be compared on the cases they trade.
Needs the ``train`` extra (PyTorch) and reads or builds the aligned-crop cache of training.

Usage: ``python -m station.vision.training.variants [--prior 0.75,0.18,0.07|none] [--with-mask-min P]
[--classifier FILE]``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from station.mask_rule import WITH_MASK_MIN
from station.vision.masks import DEFAULT_MODEL_PATH, MaskClassifier, parse_prior

_REPO = Path(__file__).resolve().parents[3]


def main() -> None:
    """Print the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m station.vision.training.variants", description=__doc__)
    parser.add_argument("--classifier", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument(
        "--prior", type=parse_prior, default=None, help="three shares, or 'none' (the default)"
    )
    parser.add_argument("--with-mask-min", type=float, default=WITH_MASK_MIN, help="see mask_rule.decide")
    parser.add_argument("--data", type=Path, default=_REPO.parent / "shared" / "datasets" / "masks")
    parser.add_argument(
        "--yunet", type=Path, default=_REPO.parent / "shared" / "models" / "face_detection_yunet_2026may.onnx"
    )
    parser.add_argument("--cache", type=Path, default=_REPO / "build" / "mask_crops.npz")
    args = parser.parse_args()

    from station.vision.training.train import (
        TrainConfig,
        decided,
        hard_variant_figures,
        load_crops,
        summarise,
        val_crops,
    )

    data = load_crops(
        TrainConfig(data_dir=args.data, yunet_path=args.yunet, output=args.classifier, cache=args.cache)
    )
    val_indices = np.array([index for index, sample in enumerate(data.samples) if sample.split == "val"])
    labels = np.array([data.samples[index].label for index in val_indices])
    classifier = MaskClassifier(args.classifier, prior=args.prior)
    images = val_crops(data, val_indices)
    figures = {
        "prior": args.prior,
        "with_mask_min": args.with_mask_min,
        "val": summarise(labels, decided(classifier, list(images), args.with_mask_min)),
        "hard_variants": hard_variant_figures(classifier, data, val_indices, images, args.with_mask_min),
    }
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()

"""``python -m station.vision.training``: train the mask classifier and export it next to the runtime."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from station.vision.masks import DEFAULT_MODEL_PATH

if TYPE_CHECKING:
    from station.vision.training.train import TrainConfig

_REPO = Path(__file__).resolve().parents[3]


def parse_config(argv: list[str] | None = None) -> TrainConfig:
    """Return the training settings the command line ``argv`` (default: ``sys.argv``) asks for."""
    from station.vision.training.train import TrainConfig

    parser = argparse.ArgumentParser(prog="python -m station.vision.training", description=__doc__)
    parser.add_argument("--data", type=Path, default=_REPO.parent / "shared" / "datasets" / "masks")
    parser.add_argument(
        "--yunet", type=Path, default=_REPO.parent / "shared" / "models" / "face_detection_yunet_2026may.onnx"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--epochs", type=int, default=18)
    parser.add_argument(
        "--seed",
        type=int,
        default=2026,
        help="seed of the training randomness (weights, draws, batch order); it does not change the split",
    )
    parser.add_argument("--width", type=float, default=1.5, help="channel multiplier of the network")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads (the CPU is shared)")
    parser.add_argument("--cache", type=Path, default=_REPO / "build" / "mask_crops.npz")
    parser.add_argument("--negatives-cache", type=Path, default=_REPO / "build" / "mask_negatives.npz")
    parser.add_argument("--video", type=Path, default=_REPO.parent / "shared" / "datasets" / "video")
    parser.add_argument("--metrics", type=Path, default=_REPO / "build" / "mask_metrics.json")
    args = parser.parse_args(argv)
    return TrainConfig(
        data_dir=args.data,
        yunet_path=args.yunet,
        output=args.output,
        cache=args.cache,
        negatives_cache=args.negatives_cache,
        video_dir=args.video,
        metrics=args.metrics,
        epochs=args.epochs,
        seed=args.seed,
        threads=args.threads,
        width=args.width,
    )


def main() -> None:
    """Parse the command line, train, print the validation figures."""
    config = parse_config()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from station.vision.training.train import train

    print(json.dumps(train(config), indent=1))


if __name__ == "__main__":
    main()

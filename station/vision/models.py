"""Model store: finds a third-party model file, or downloads it once from its official address.

Search order: the configured folder, then ``$GERBANG_MODEL_DIR``, then the user's cache folder
(``$XDG_CACHE_HOME/gerbang/models``, by default ``~/.cache/gerbang/models``). A missing file is downloaded
into the cache folder with a progress bar and its sha256 checked before it is used; offline, one message says
exactly what to download and where to put it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TextIO

logger = logging.getLogger(__name__)

#: Environment variable naming a folder that holds model files.
MODEL_DIR_ENV = "GERBANG_MODEL_DIR"

_CHUNK_BYTES = 1 << 16


@dataclass(frozen=True)
class ModelSpec:
    """A third-party model file: its name, checksum and official download addresses.

    Attributes:
        filename: File name, also the name it is looked up by in every folder.
        sha256: Lower-case hex sha256 of the file.
        urls: Official download addresses, tried in order.
        size_bytes: Expected size, shown in messages (0 when unknown).
    """

    filename: str
    sha256: str
    urls: tuple[str, ...]
    size_bytes: int = 0


#: YuNet face detector from the OpenCV Zoo (MIT licence).
YUNET = ModelSpec(
    filename="face_detection_yunet_2026may.onnx",
    sha256="ebafce4e3c118d6554634be5c27ab333b4c047a9a8c3faf1d7cf93101c22f0f0",
    urls=(
        "https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/face_detection_yunet_2026may.onnx",
        "https://huggingface.co/opencv/opencv_zoo/resolve/main/models/face_detection_yunet/face_detection_yunet_2026may.onnx",
    ),
    size_bytes=229_738,
)


class ModelError(RuntimeError):
    """A model file is missing and could not be downloaded, or its checksum is wrong."""


def cache_dir() -> Path:
    """Return the user's cache folder for model files.

    Returns:
        ``$XDG_CACHE_HOME/gerbang/models``, or ``~/.cache/gerbang/models``.
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gerbang" / "models"


def sha256_of(path: Path) -> str:
    """Return the hex sha256 of a file.

    Args:
        path: The file.

    Returns:
        Lower-case hex digest.
    """
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


class ModelStore:
    """Finds model files in a list of folders and downloads the missing ones into the cache folder.

    Args:
        folder: The configured folder, searched first (``None``: none configured).
        download: Whether a missing file may be downloaded.
        progress: Stream the download progress bar goes to (``None``: no bar).
    """

    def __init__(
        self, folder: Path | str | None = None, *, download: bool = True, progress: TextIO | None = None
    ):
        self._folder = Path(folder) if folder is not None else None
        self._download = download
        self._progress = progress if progress is not None else sys.stderr

    def search_dirs(self) -> list[Path]:
        """Return the folders searched, in order.

        Returns:
            Configured folder, ``$GERBANG_MODEL_DIR``, then the cache folder (each only if set).
        """
        dirs: list[Path] = []
        if self._folder is not None:
            dirs.append(self._folder)
        env = os.environ.get(MODEL_DIR_ENV)
        if env:
            dirs.append(Path(env))
        dirs.append(cache_dir())
        return dirs

    def find(self, spec: ModelSpec) -> Path | None:
        """Return the first existing copy of a model file, without downloading.

        Args:
            spec: The model.

        Returns:
            Its path, or ``None``.
        """
        for folder in self.search_dirs():
            candidate = folder / spec.filename
            if candidate.is_file():
                return candidate
        return None

    def path(self, spec: ModelSpec) -> Path:
        """Return a verified local copy of a model file, downloading it into the cache folder if needed.

        Args:
            spec: The model.

        Returns:
            Path of the file.

        Raises:
            ModelError: The file is missing and could not be downloaded, or its sha256 is wrong.
        """
        found = self.find(spec)
        if found is not None:
            logger.debug("model %s found at %s", spec.filename, found)
            return found
        if not self._download:
            raise ModelError(self.missing_message(spec, reason="downloads are turned off"))
        target = cache_dir() / spec.filename
        errors: list[str] = []
        for url in spec.urls:
            try:
                return self._fetch(spec, url, target)
            except (urllib.error.URLError, OSError, TimeoutError) as error:
                logger.warning("download of %s from %s failed: %s", spec.filename, url, error)
                errors.append(f"{url}: {error}")
        raise ModelError(self.missing_message(spec, reason="; ".join(errors) or "no download address"))

    def missing_message(self, spec: ModelSpec, reason: str) -> str:
        """Build the one message that says what to download and where to put it.

        Args:
            spec: The model.
            reason: Why it could not be downloaded.

        Returns:
            The message.
        """
        size = f" ({spec.size_bytes:,} bytes)" if spec.size_bytes else ""
        folders = ", ".join(str(folder) for folder in self.search_dirs())
        return (
            f"Model file {spec.filename}{size} is missing and could not be downloaded ({reason}). "
            f"Download it from {' or '.join(spec.urls)}, check that its sha256 is {spec.sha256}, and put it "
            f"in {cache_dir()} (or in any of: {folders}; set {MODEL_DIR_ENV} to use another folder)."
        )

    def _fetch(self, spec: ModelSpec, url: str, target: Path) -> Path:
        logger.info("downloading %s from %s", spec.filename, url)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with (
            urllib.request.urlopen(url, timeout=30) as response,
            tempfile.NamedTemporaryFile(dir=target.parent, prefix=".part-", delete=False) as part,
        ):
            total = int(response.headers.get("Content-Length") or spec.size_bytes or 0)
            try:
                _copy_with_progress(response, part, total, digest.update, self._progress, spec.filename)
            except BaseException:
                Path(part.name).unlink(missing_ok=True)
                raise
        if digest.hexdigest() != spec.sha256:
            Path(part.name).unlink(missing_ok=True)
            raise ModelError(
                f"Downloaded {spec.filename} from {url} but its sha256 is {digest.hexdigest()}, "
                f"not {spec.sha256}: the file was not kept. "
                f"Download it by hand and put it in {target.parent}."
            )
        os.replace(part.name, target)
        logger.info("model %s saved to %s", spec.filename, target)
        return target


def _copy_with_progress(
    source: IO[bytes],
    sink: IO[bytes],
    total_bytes: int,
    on_chunk: Callable[[bytes], None],
    stream: TextIO,
    label: str,
) -> None:
    done = 0
    width = 30
    while chunk := source.read(_CHUNK_BYTES):
        sink.write(chunk)
        on_chunk(chunk)
        done += len(chunk)
        if total_bytes:
            filled = min(width, width * done // total_bytes)
            stream.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total_bytes:,} B")
        else:
            stream.write(f"\r{label} {done:,} B")
        stream.flush()
    stream.write("\n")
    stream.flush()

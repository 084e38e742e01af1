"""The model store: where it looks, how it downloads, what it says offline. No test touches the network."""

import hashlib
import http.server
import io
import threading
from functools import partial

import pytest

from station.vision import models
from station.vision.models import YUNET, ModelError, ModelSpec, ModelStore, sha256_of

PAYLOAD = b"not really an onnx model\n" * 1000


def spec_for(urls, payload=PAYLOAD):
    return ModelSpec(filename="tiny.onnx", sha256=hashlib.sha256(payload).hexdigest(), urls=tuple(urls))


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Cache folder in tmp, no $GERBANG_MODEL_DIR."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(models.MODEL_DIR_ENV, raising=False)
    return tmp_path


@pytest.fixture
def source_file(tmp_path):
    path = tmp_path / "served" / "tiny.onnx"
    path.parent.mkdir()
    path.write_bytes(PAYLOAD)
    return path


@pytest.mark.parametrize(
    ("present_in", "expected"),
    [
        # only the cache folder has it
        (["cache"], "cache"),
        # the environment variable's folder wins over the cache
        (["env", "cache"], "env"),
        # the configured folder wins over both
        (["configured", "env", "cache"], "configured"),
        # configured folder empty: the environment's copy is used
        (["env"], "env"),
    ],
)
def test_search_order(tmp_path, monkeypatch, present_in, expected):
    folders = {
        "configured": tmp_path / "configured",
        "env": tmp_path / "env",
        "cache": models.cache_dir(),
    }
    for name in present_in:
        folders[name].mkdir(parents=True, exist_ok=True)
        (folders[name] / "tiny.onnx").write_bytes(PAYLOAD)
    monkeypatch.setenv(models.MODEL_DIR_ENV, str(folders["env"]))
    store = ModelStore(folders["configured"], download=False)
    assert store.path(spec_for(["file:///nowhere"])) == folders[expected] / "tiny.onnx"


def test_finds_nothing_when_absent(tmp_path):
    assert ModelStore(tmp_path / "empty").find(spec_for([])) is None


def test_download_from_file_url_verifies_and_caches(source_file):
    progress = io.StringIO()
    store = ModelStore(progress=progress)
    path = store.path(spec_for([source_file.as_uri()]))
    assert path == models.cache_dir() / "tiny.onnx"
    assert path.read_bytes() == PAYLOAD
    assert "tiny.onnx" in progress.getvalue()
    # second call finds the cached copy without downloading
    source_file.unlink()
    assert store.path(spec_for([source_file.as_uri()])) == path


def test_falls_back_to_the_next_address(tmp_path, source_file):
    store = ModelStore(progress=io.StringIO())
    path = store.path(spec_for([(tmp_path / "missing.onnx").as_uri(), source_file.as_uri()]))
    assert path.read_bytes() == PAYLOAD


def test_sha256_mismatch_is_refused_and_not_kept(source_file):
    wrong = ModelSpec(filename="tiny.onnx", sha256="0" * 64, urls=(source_file.as_uri(),))
    with pytest.raises(ModelError, match="sha256") as error:
        ModelStore(progress=io.StringIO()).path(wrong)
    assert hashlib.sha256(PAYLOAD).hexdigest() in str(error.value)
    assert not (models.cache_dir() / "tiny.onnx").exists()
    assert not list(models.cache_dir().glob(".part-*"))


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def test_download_over_http_shows_a_progress_bar(source_file):
    handler = partial(_Handler, directory=str(source_file.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        progress = io.StringIO()
        url = f"http://127.0.0.1:{server.server_address[1]}/tiny.onnx"
        path = ModelStore(progress=progress).path(spec_for([url]))
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert path.read_bytes() == PAYLOAD
    # a bar with the total size, since the server sent Content-Length
    assert f"{len(PAYLOAD):,}/{len(PAYLOAD):,} B" in progress.getvalue()
    assert "#" * 30 in progress.getvalue()


@pytest.mark.parametrize(
    "download",
    [
        # downloads allowed, but the address cannot be reached
        True,
        # downloads turned off
        False,
    ],
)
def test_offline_message_says_what_and_where(tmp_path, download):
    url = (tmp_path / "offline" / "tiny.onnx").as_uri()
    spec = spec_for([url])
    with pytest.raises(ModelError) as error:
        ModelStore(tmp_path / "configured", download=download, progress=io.StringIO()).path(spec)
    message = str(error.value)
    for needed in ("tiny.onnx", spec.sha256, url, str(models.cache_dir()), str(tmp_path / "configured")):
        assert needed in message


def test_yunet_spec_matches_the_shared_copy(models_dir):
    assert sha256_of(models_dir / YUNET.filename) == YUNET.sha256
    assert (models_dir / YUNET.filename).stat().st_size == YUNET.size_bytes
    assert all(url.startswith("https://") and url.endswith(YUNET.filename) for url in YUNET.urls)

"""`--serve`: the explorer's folder and its JSON endpoints on a local HTTP server (standard library only).

Why `http.server.ThreadingHTTPServer` and not an ASGI stack: the server answers one person's browser on the same
machine; each request is one torch product or one decoder call, which release the GIL, and threads keep a slow
request (a whole-set k-NN) from blocking static files. It adds no dependency, starts in milliseconds, and the
code a reader must trust is one handler class. See docs/explore.md.

It binds 127.0.0.1 unless told otherwise, serves only files inside the explorer's folder (a path that leaves it
gets 403), answers every bad request with a 4xx JSON error and keeps serving; Ctrl-C stops `serve` cleanly.
"""

from __future__ import annotations

import errno
import json
import logging
import mimetypes
import shutil
import socket
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from latentatlas.errors import LatentAtlasError
from latentatlas.explorer.api import MAX_BODY_BYTES, ApiError, ExplorerApi
from latentatlas.explorer.data import ExplorerData
from latentatlas.explorer.folder import api_for_folder
from latentatlas.explorer.neighbours import NeighbourIndex
from latentatlas.explorer.write import write_explorer

log = logging.getLogger("latentatlas")
_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".json": "application/json"}


class _Handler(BaseHTTPRequestHandler):
    """Static files of `server.root` and the routes of `server.api`."""

    server_version = "latentatlas-explore"
    protocol_version = "HTTP/1.1"  # keep-alive: a page's many small queries reuse one connection
    disable_nagle_algorithm = True  # else each small reply waits ~40 ms for the client's delayed ACK

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = urlsplit(self.path).path
        if path.startswith("/api/"):
            self._route("GET", path, None)
        else:
            self._static(path)

    def do_POST(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        try:
            body = self._body()
        except ApiError as e:
            self._json(e.status, {"error": e.message})
            return
        self._route("POST", path, body)

    def _refuse(self) -> None:
        self._json(405, {"error": f"method {self.command} is not allowed; use GET for files, POST for /api/"})

    do_PUT = do_DELETE = do_PATCH = _refuse  # noqa: N815

    def _body(self) -> dict:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise ApiError(411, "send a Content-Length header with the JSON body")
        if int(length) > MAX_BODY_BYTES:
            self.close_connection = True  # the unread body must not be parsed as the next request
            raise ApiError(413, f"request body of {int(length)} bytes is above {MAX_BODY_BYTES} bytes")
        raw = self.rfile.read(int(length))
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ApiError(400, f"request body is not JSON ({e.__class__.__name__}); send a JSON object") from None
        if not isinstance(body, dict):
            raise ApiError(400, 'request body must be a JSON object, e.g. {"index": 0, "k": 10}')
        return body

    def _route(self, method: str, path: str, body: dict | None) -> None:
        routes = self.server.api.routes()
        handler = routes.get((method, path))
        if handler is None:
            other = [m for (m, p) in routes if p == path]
            status, msg = (405, f"{path} takes {other[0]}") if other else (404, f"no endpoint {path}")
            self._json(status, {"error": msg})
            return
        try:
            self._json(200, handler(body or {}))
        except ApiError as e:
            self._json(e.status, {"error": e.message})
        except LatentAtlasError as e:
            self._json(400, {"error": str(e)})
        except Exception as e:  # a bug or a failing decoder: answer, log, keep serving
            log.exception("explore server: %s %s failed", method, path)
            self._json(500, {"error": f"internal error: {e.__class__.__name__}: {e}"})

    def _static(self, path: str) -> None:
        rel = unquote(path)
        root = self.server.root
        if "\x00" in rel or ".." in rel.replace("\\", "/").split("/"):
            self._json(403, {"error": "path leaves the explorer's folder"})
            return
        target = (root / rel.lstrip("/")).resolve()
        if not target.is_relative_to(root):  # e.g. a symlink pointing outside
            self._json(403, {"error": "path leaves the explorer's folder"})
            return
        if target.is_dir():
            target = target / "index.html" if (target / "index.html").is_file() else target / "explorer.html"
        if not target.is_file():
            self._json(404, {"error": f"no file {rel}"})
            return
        data = target.read_bytes()
        kind = _TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self.send_response(200)
        self.send_header("Content-Type", kind + ("; charset=utf-8" if kind.startswith("text/") else ""))
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, obj: Any) -> None:
        data = json.dumps(obj, allow_nan=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        log.debug("explore server: " + format, *args)


class _Server(ThreadingHTTPServer):
    """The listening socket; `root` (the explorer folder) and `api` are set before it serves."""

    daemon_threads = True
    root: Path
    api: ExplorerApi


class _Server6(_Server):
    address_family = socket.AF_INET6


def _bind(host: str, port: int) -> _Server:
    try:
        return (_Server6 if ":" in host else _Server)((host, port), _Handler)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise LatentAtlasError(f"--port {port}: already in use on {host}; pass --port 0 to pick a free one") from e
        raise LatentAtlasError(f"--host {host}: cannot listen there ({e.strerror}); use 127.0.0.1") from e


class ExplorerServer:
    """A running server: `url`, `address`, and `close()` (also a context manager)."""

    def __init__(self, httpd: _Server, temp_dir: Path | None = None):
        self.httpd = httpd
        self._temp = temp_dir
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        return self.httpd.server_address[:2]

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"

    def start(self) -> ExplorerServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="latentatlas-explore", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join()
            self._thread = None
        self.httpd.server_close()
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None

    def __enter__(self) -> ExplorerServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_server(
    source: ExplorerData | str | Path, host: str = "127.0.0.1", port: int = 0, decoder: Any = None,
    oracle: Any = None, out_dir: str | Path | None = None, force: bool = False,
) -> ExplorerServer:  # fmt: skip
    """Bind a server for an explorer (not yet serving: call `.start()` or `.httpd.serve_forever()`).

    Args:
        source: ExplorerData (written into out_dir, or a temporary folder removed on close) or an explorer folder
            (neighbours need its embeddings.npy: `write_explorer(..., with_embeddings=True)`).
        host, port: where to listen; port 0 picks a free port.
        decoder, oracle: `decode(z) -> probs` and `valid(probs) -> bool` for live decodes of generative runs.
    """
    httpd = _bind(host, port)  # first: a port in use fails before anything is written
    temp = None
    try:
        if isinstance(source, ExplorerData):
            if out_dir is None:
                temp = Path(tempfile.mkdtemp(prefix="latentatlas-explore-"))
                out_dir, force = temp / "explorer", False
            root = write_explorer(source, out_dir, force=force).parent.resolve()
            api = ExplorerApi(
                root, source.n, source.metric,
                NeighbourIndex(source.embeddings, source.metric) if source.embeddings is not None else None,
                source.labels, source.class_names, decoder, oracle,
                source.latent.latent_dim if source.latent is not None else None,
            )  # fmt: skip
        else:
            root = Path(source).resolve()
            api = api_for_folder(root, decoder, oracle)
    except BaseException:
        httpd.server_close()
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
        raise
    httpd.root, httpd.api = root, api
    return ExplorerServer(httpd, temp)


def serve(
    source: ExplorerData | str | Path,
    host: str = "127.0.0.1",
    port: int = 0,
    decoder: Any = None,
    oracle: Any = None,
    out_dir: str | Path | None = None,
    force: bool = False,
    announce: Any = print,
) -> None:
    """Serve an explorer until Ctrl-C (arguments as `open_server`); prints the URL to open."""
    serve_until_interrupted(open_server(source, host, port, decoder, oracle, out_dir, force), announce)


def check_port(host: str, port: int) -> None:
    """Raise now (one line) when `host:port` cannot be listened on, e.g. a port in use, before any slow work."""
    _bind(host, port).server_close()


def serve_until_interrupted(server: ExplorerServer, announce: Any = print) -> None:
    """Serve a bound server in this thread until Ctrl-C, announcing its URL; then close it."""
    announce(f"latentatlas explorer: {server.url}  (Ctrl-C stops it)")
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        announce("latentatlas explorer: stopped")
    finally:
        server.close()

"""The explorer's local server over real HTTP: every endpoint's answer against the decoder, the oracle and a
brute-force k-NN; every malformed request gets a 4xx and the next good request still works; no path leaves the
folder; it listens on 127.0.0.1 only; a port in use is one line; Ctrl-C stops it cleanly."""

import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from latentatlas.errors import LatentAtlasError
from latentatlas.explorer import explorer_data, generative_explorer_data, write_explorer
from latentatlas.explorer.server import open_server
from latentatlas.latentmaps.morph import interpolate

from .explore_helpers import CLASS_NAMES, brute_knn, labelled, render_decoder, render_valid


def _request(server, method, path, body=None, headers=None, raw=None):
    conn = http.client.HTTPConnection(*server.address, timeout=30)
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    conn.request(method, path, body=data, headers=headers or ({"Content-Type": "application/json"} if data else {}))
    resp = conn.getresponse()
    payload = resp.read()
    conn.close()
    kind = resp.getheader("Content-Type", "")
    return resp.status, (json.loads(payload) if kind.startswith("application/json") else payload)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    rng = np.random.default_rng(7)
    latents = rng.normal(size=(90, 3)).astype(np.float32)
    labels = (latents[:, 0] > 0).astype(int)
    data = generative_explorer_data(latents, render_decoder, render_valid, labels=labels, class_names=["I", "II"],
                                    grid_n=4, n_slices=2)  # fmt: skip
    server = open_server(data, decoder=render_decoder, oracle=render_valid).start()
    yield server, data
    server.close()


def test_info_and_neighbours(served):
    server, data = served
    status, info = _request(server, "GET", "/api/info")
    assert status == 200 and info["server"] == "latentatlas" and info["n"] == 90
    assert info["neighbours"] and info["decoder"] and info["latent_dim"] == 3
    want_idx, want_dist = brute_knn(data.embeddings, 12, "euclidean")
    status, r = _request(server, "POST", "/api/neighbours", {"index": 41, "k": 12})
    assert status == 200 and r["neighbours"] == want_idx[41].tolist()
    np.testing.assert_allclose(r["distances"], want_dist[41], rtol=1e-12)


def test_decode_and_morph_are_the_decoders(served):
    server, _ = served
    z = [[0.3, -1.2, 0.1], [-0.5, 1.5, 0.4]]
    status, r = _request(server, "POST", "/api/decode", {"z": z})
    assert status == 200
    probs = render_decoder(np.array(z, np.float32))
    got = np.frombuffer(base64.b64decode(r["probs"]), np.uint8).reshape(2, 64, 64)
    np.testing.assert_array_equal(got, np.rint(probs * 255).astype(np.uint8))
    assert r["valid"] == render_valid(probs).tolist() == [True, False]
    status, r = _request(server, "POST", "/api/morph", {"z0": z[0], "z1": z[1], "steps": 12, "mode": "slerp"})
    path = interpolate(np.array(z[0], np.float32), np.array(z[1], np.float32), 12, "slerp").astype(np.float32)
    np.testing.assert_allclose(r["z"], path, rtol=1e-6)
    assert r["valid"] == render_valid(render_decoder(path)).tolist()


def test_selection_is_written_inside_the_folder_never_over_another(served):
    server, _ = served
    root = server.httpd.root
    for want in ("selections/pick.csv", "selections/pick-1.csv"):
        status, r = _request(server, "POST", "/api/selection", {"indices": [3, 1, 4], "name": "pick"})
        assert status == 200 and r == {"path": want, "count": 3}
    lines = (root / "selections" / "pick.csv").read_text().splitlines()
    labels = server.httpd.api.labels
    assert lines == ["index,label"] + [f"{i},{['I', 'II'][labels[i]]}" for i in (3, 1, 4)]


BAD = [
    ("POST", "/api/neighbours", b"{not json", 400),
    ("POST", "/api/neighbours", b"[1, 2]", 400),
    ("POST", "/api/neighbours", b'{"index": 90}', 400),
    ("POST", "/api/neighbours", b'{"index": -1}', 400),
    ("POST", "/api/neighbours", b'{"index": "3"}', 400),
    ("POST", "/api/neighbours", b'{"index": 0, "k": 100000000}', 400),
    ("POST", "/api/neighbours", b'{"index": 0, "k": true}', 400),
    ("POST", "/api/decode", b'{"z": [[1, 2]]}', 400),
    ("POST", "/api/decode", b'{"z": [[NaN, 0, 0]]}', 400),
    ("POST", "/api/decode", b'{"z": "zzz"}', 400),
    ("POST", "/api/morph", b'{"z0": [0, 0, 0], "z1": [1, 1, 1], "mode": "cubic"}', 400),
    ("POST", "/api/morph", b'{"z0": [0, 0, 0], "z1": [1, 1, 1], "steps": 1000}', 400),
    ("POST", "/api/selection", b'{"indices": [1, 2], "name": "../../evil"}', 400),
    ("POST", "/api/selection", b'{"indices": [1, 9999]}', 400),
    ("POST", "/api/nothing", b"{}", 404),
    ("GET", "/api/neighbours", None, 405),
    ("DELETE", "/index.html", None, 405),
    ("GET", "/no-such-file.js", None, 404),
]


@pytest.mark.parametrize(("method", "path", "raw", "status"), BAD)
def test_malformed_requests_get_4xx_and_the_server_keeps_serving(served, method, path, raw, status):
    server, _ = served
    got, body = _request(server, method, path, raw=raw)
    assert got == status and isinstance(body, dict) and body["error"]
    assert _request(server, "POST", "/api/neighbours", {"index": 0, "k": 3})[0] == 200


def test_missing_length_and_huge_body(served):
    server, _ = served
    conn = http.client.HTTPConnection(*server.address, timeout=30)
    conn.putrequest("POST", "/api/neighbours")
    conn.endheaders()
    assert conn.getresponse().status == 411
    conn.close()
    status, body = _request(server, "POST", "/api/decode", raw=b"{}", headers={"Content-Length": str(2**40)})
    assert status == 413 and "above" in body["error"]
    assert _request(server, "GET", "/api/info")[0] == 200


@pytest.mark.parametrize("path", ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/js/..%2f..%2f..%2fetc%2fpasswd",
                                  "/data/../../x", "/leak/passwd"])  # fmt: skip
def test_no_path_leaves_the_folder(served, path):
    server, _ = served
    leak = server.httpd.root / "leak"
    if not leak.exists():
        leak.symlink_to("/etc")
    status, body = _request(server, "GET", path)
    assert status == 403 and "leaves the explorer's folder" in body["error"]
    status, page = _request(server, "GET", "/")
    assert status == 200 and b"<!DOCTYPE html>" in page


def test_listens_on_loopback_only(served):
    server, _ = served
    host, port = server.address
    assert host == "127.0.0.1"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", port), timeout=5).close()


def test_port_in_use_is_one_line_and_writes_nothing(rng, tmp_path):
    x, y = labelled(rng, n=30)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(LatentAtlasError, match=rf"--port {port}: already in use on 127.0.0.1; pass --port 0"):
            open_server(explorer_data(x, y), port=port, out_dir=tmp_path / "ex")
    assert not (tmp_path / "ex").exists()


def test_serve_a_written_folder_and_stop_with_ctrl_c(rng, tmp_path):
    x, y = labelled(rng, n=50, d=6)
    write_explorer(explorer_data(x, y, class_names=CLASS_NAMES, metric="cosine"), tmp_path / "ex", with_embeddings=True)
    code = "import sys; from latentatlas.explorer.server import serve; serve(sys.argv[1], port=0)"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "ex")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        line = proc.stdout.readline()
        url = line.split()[2]
        host, port = url.removeprefix("http://").rstrip("/").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("POST", "/api/neighbours", body=json.dumps({"index": 7, "k": 5}))
        r = json.loads(conn.getresponse().read())
        conn.close()
        assert r["neighbours"] == brute_knn(x, 5, "cosine")[0][7].tolist()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err

"""Fixtures for the Python-SDK conformance suite.

The official Python SDK (`alibabacloud-oss-v2`) is the independent client. It talks to our
emulator binary (started once per session on 127.0.0.1:0), and every callback the emulator
delivers lands on a callback server here that verifies the RSA signature with `cryptography`
before answering, exactly as a user's server would.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import alibabacloud_oss_v2 as oss
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ACCESS_KEY_ID = "conformance-ak"
ACCESS_KEY_SECRET = "conformance-sk"
REGION = "cn-hangzhou"


class Emulator:
    """A running `oss-emulator` process."""

    def __init__(self, proc: subprocess.Popen, endpoint: str):
        self.proc = proc
        self.endpoint = endpoint

    def callbacks(self) -> list:
        with urllib.request.urlopen(self.endpoint + "/__emulator/callbacks", timeout=10) as resp:
            return json.loads(resp.read())


@pytest.fixture(scope="session")
def emulator():
    binary = os.environ.get("OSS_EMULATOR_BIN")
    if not binary or not os.path.exists(binary):
        pytest.fail("OSS_EMULATOR_BIN must point at the oss-emulator binary (cargo xtask conformance sets it)")
    data_dir = tempfile.mkdtemp(prefix="oss-emulator-py-")
    proc = subprocess.Popen(
        [
            binary,
            "--listen", "127.0.0.1:0",
            "--region", REGION,
            "--access-key-id", ACCESS_KEY_ID,
            "--access-key-secret", ACCESS_KEY_SECRET,
            "--data-dir", data_dir,
            "--callback-timeout", "2",
            # The suites below put objects into buckets they never create: they rely on
            # auto-create (the binary is strict by default, like OSS).
            "--auto-create-buckets",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    endpoint = None
    for line in proc.stdout:
        if line.startswith("oss-emulator listening on "):
            endpoint = line.strip().rsplit(" ", 1)[-1]
            break
    if endpoint is None:
        proc.kill()
        pytest.fail("oss-emulator exited before it printed its address")
    # Keep draining stdout so the emulator never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    yield Emulator(proc, endpoint)
    proc.terminate()
    proc.wait(timeout=20)


class CallbackServer:
    """Receives the emulator's callbacks, verifies each signature, answers with JSON."""

    def __init__(self, trusted_prefix: str):
        self.trusted_prefix = trusted_prefix
        self.received: list[dict] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                verified = server.verify(self.path, self.headers, body)
                record = {
                    "path": self.path,
                    "body": body.decode("utf-8", "replace"),
                    "content_type": self.headers.get("Content-Type"),
                    "verified": verified,
                }
                with server.lock:
                    server.received.append(record)
                if not verified:
                    self._answer(400, {"Status": "BadSignature"})
                elif self.path.startswith("/fail"):
                    self._answer(500, {"Status": "Broken"})
                else:
                    self._answer(200, {"Status": "OK", "received": record["body"]})

            def _answer(self, status: int, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def verify(self, path: str, headers, body: bytes) -> bool:
        """OSS's scheme: MD5withRSA over url_decode(path) + query + "\\n" + body."""
        try:
            pub_key_url = base64.b64decode(headers["x-oss-pub-key-url"]).decode()
            if not pub_key_url.startswith(self.trusted_prefix):
                return False
            with urllib.request.urlopen(pub_key_url, timeout=10) as resp:
                key = serialization.load_pem_public_key(resp.read())
            signature = base64.b64decode(headers["authorization"])
            raw_path, sep, query = path.partition("?")
            signed = urllib.parse.unquote(raw_path) + (("?" + query) if sep else "") + "\n"
            key.verify(signature, signed.encode() + body, padding.PKCS1v15(), hashes.MD5())
            return True
        except (KeyError, ValueError, InvalidSignature):
            return False

    def last(self) -> dict:
        with self.lock:
            return self.received[-1]

    def count(self) -> int:
        with self.lock:
            return len(self.received)


@pytest.fixture(scope="session")
def callback_server(emulator):
    server = CallbackServer(trusted_prefix=emulator.endpoint + "/")
    yield server
    server.httpd.shutdown()


def make_client(endpoint: str, secret: str = ACCESS_KEY_SECRET) -> oss.Client:
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(ACCESS_KEY_ID, secret)
    cfg.region = REGION
    cfg.endpoint = endpoint
    cfg.use_path_style = True
    cfg.disable_ssl = True
    return oss.Client(cfg)


@pytest.fixture(scope="session")
def client(emulator):
    return make_client(emulator.endpoint)


def b64json(value: dict) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


def _launch_emulator(extra_args: list) -> Emulator:
    """Starts the emulator binary with the suite's credentials plus `extra_args`."""
    binary = os.environ.get("OSS_EMULATOR_BIN")
    if not binary or not os.path.exists(binary):
        pytest.fail("OSS_EMULATOR_BIN must point at the oss-emulator binary (cargo xtask conformance sets it)")
    proc = subprocess.Popen(
        [
            binary,
            "--listen", "127.0.0.1:0",
            "--region", REGION,
            "--access-key-id", ACCESS_KEY_ID,
            "--access-key-secret", ACCESS_KEY_SECRET,
            *extra_args,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    endpoint = None
    for line in proc.stdout:
        if line.startswith("oss-emulator listening on "):
            endpoint = line.strip().rsplit(" ", 1)[-1]
            break
    if endpoint is None:
        proc.kill()
        pytest.fail("oss-emulator exited before it printed its address")
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return Emulator(proc, endpoint)


# A bucket the strict emulator creates at start (`--create-bucket`).
PRESET_BUCKET = "py-preset"


@pytest.fixture(scope="module")
def strict_emulator():
    """An emulator with the binary's default, strict buckets (like OSS: NoSuchBucket until
    PutBucket), holding only PRESET_BUCKET at start; one per test module, so each module that
    lists buckets sees exactly its own."""
    emu = _launch_emulator(["--create-bucket", PRESET_BUCKET])
    yield emu
    emu.proc.terminate()
    emu.proc.wait(timeout=20)


@pytest.fixture(scope="module")
def strict_client(strict_emulator):
    return make_client(strict_emulator.endpoint)

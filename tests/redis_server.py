"""A throwaway Redis server on loopback for the rate-limit tests.

Debian's redis-server where it is installed (CI installs it: .ci/run); elsewhere, so that
`make test` runs every test on a fresh machine with nothing but the package registries, a
Redis-protocol server in this process from fakeredis (a dev dependency, with Lua for the
rate limiter's scripts). Under CI (CI=true) the real server is required: a missing one is a
failure, never a fallback or a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from typing import Any

from tests.pg_server import _free_port


class RedisServer:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def find(cls) -> RedisServer | None:
        binary = shutil.which("redis-server")
        return cls(binary) if binary else None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 15
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


class FakeRedisServer:
    """fakeredis' TCP server on a free loopback port, served from a daemon thread."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.server: Any = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        from fakeredis import TcpFakeServer

        self.server = TcpFakeServer(("127.0.0.1", self.port), server_type="redis")
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name="fakeredis")
        self.thread.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=10)


class RedisMissingError(RuntimeError):
    pass


def throwaway_redis() -> RedisServer | FakeRedisServer:
    """The Redis server the tests start: the real one where installed; fakeredis otherwise,
    except under CI, where a missing redis-server is an error."""
    real = RedisServer.find()
    if real is not None:
        return real
    if os.environ.get("CI") == "true":
        raise RedisMissingError("redis-server is not installed: under CI the Redis runs use the "
                                "real server (.ci/run installs it) and must not be skipped")
    return FakeRedisServer()

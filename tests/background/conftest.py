"""Background work: a Celery app pointed at a chosen broker, and a real worker for the Redis tests.

Tests marked `redis` run only when TEST_REDIS_URL names a Redis database they may use (.ci/run sets
redis://127.0.0.1:6379/15); the worker is a real `celery worker` process on its own queue, reading
the test database and writing e-mails as files the test reads.
"""

from __future__ import annotations

import contextlib
import email
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from kombu import pools

from config.celery import app

REPO = Path(__file__).resolve().parents[2]
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
# Nothing listens here: a broker that is down.
CLOSED_BROKER_URL = "redis://127.0.0.1:6390/0"


def _reset_broker_connections() -> None:
    app._pool = None
    with contextlib.suppress(AttributeError, KeyError):
        app.amqp._producer_pool = None
    pools.reset()


@contextlib.contextmanager
def broker(url: str, queue: str = "valuegate-test"):
    """Publish for real (no eager mode) to `url`, every governance task routed to `queue`."""
    keys = ("broker_url", "task_always_eager", "task_routes")
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(broker_url=url, task_always_eager=False, task_routes={"governance.*": {"queue": queue}})
    _reset_broker_connections()
    try:
        yield
    finally:
        app.conf.update(saved)
        _reset_broker_connections()


class RedisServer:
    """A redis-server of the test's own, on a free port, that the test can freeze (SIGSTOP): the
    kernel still accepts connections, the server never answers them."""

    def __init__(self, process: subprocess.Popen, port: int):
        self.process, self.url = process, f"redis://127.0.0.1:{port}/0"

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)


@contextlib.contextmanager
def redis_server():
    """Start a RedisServer and wait until it answers; thaw and stop it afterwards."""
    import redis

    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not on PATH: these tests start a Redis of their own.")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        client.close()
        yield RedisServer(process, port)
    finally:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def broker_down():
    with broker(CLOSED_BROKER_URL):
        yield


def _database_url() -> str:
    """The database the tests run on (Django's test database), as a DATABASE_URL for the worker."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    if connection.vendor == "postgresql":
        user = settings.get("USER") or "postgres"
        password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
        host = settings.get("HOST") or "127.0.0.1"
        port = settings.get("PORT") or 5432
        return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"
    raise RuntimeError(f"No worker database URL for {connection.vendor}.")


class Worker:
    def __init__(self, queue: str, mail_dir: Path, log: Path):
        self.queue, self.mail_dir, self.log = queue, mail_dir, log
        self.process: subprocess.Popen | None = None

    def start(self, database_url: str) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": TEST_REDIS_URL,
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            # What the worker itself queues (the relay after a periodic job) stays on this queue.
            "VALUEGATE_CELERY_QUEUE": self.queue,
        }
        command = [
            sys.executable,
            "-m",
            "tests.clock",  # the worker runs on the suite's clock, like the test that drives it
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            self.queue,
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            "--loglevel=INFO",
        ]
        self.process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def emails(self) -> list[email.message.Message]:
        """Every e-mail the worker sent so far (the file backend appends them, separated by dashes)."""
        messages = []
        for path in sorted(self.mail_dir.glob("*.log")):
            for chunk in path.read_text().split("-" * 79 + "\n"):
                if chunk.strip():
                    messages.append(email.message_from_string(chunk))
        return messages

    def wait_until_idle(self, *, timeout: float = 30.0) -> None:
        """Wait until the worker took every message of its queue and acknowledged it."""
        import redis

        client = redis.Redis.from_url(TEST_REDIS_URL)
        quiet_since = None

        def idle():
            nonlocal quiet_since
            if client.llen(self.queue) or client.hlen("unacked"):
                quiet_since = None
                return False
            quiet_since = quiet_since or time.monotonic()
            return time.monotonic() - quiet_since > 0.3

        self.wait_for(idle, timeout=timeout, what="the worker to finish its queue")

    def wait_for(self, predicate, *, timeout: float = 30.0, what: str = "the worker"):
        """Poll until `predicate()` is truthy; a bound against hangs, not a performance check."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"Timed out waiting for {what}. Worker log:\n{self.log.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker on Redis, on a queue of its own, for the tests of one module."""
    if not TEST_REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set: the Redis and Celery worker tests need a real Redis.")
    import redis

    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.fail(f"TEST_REDIS_URL={TEST_REDIS_URL} is set but Redis does not answer: {error}")
    root = tmp_path_factory.mktemp("celery-worker")
    (root / "mail").mkdir()
    worker = Worker(f"valuegate-test-{uuid.uuid4().hex[:12]}", root / "mail", root / "worker.log")
    with django_db_blocker.unblock():
        worker.start(_database_url())
    try:
        yield worker
    finally:
        worker.stop()
        client = redis.Redis.from_url(TEST_REDIS_URL)
        client.delete(worker.queue, *client.keys(f"_kombu.binding*{worker.queue}"))


@pytest.fixture
def real_broker(celery_worker):
    """The test process publishes to the worker's Redis queue."""
    with broker(TEST_REDIS_URL, celery_worker.queue):
        yield celery_worker

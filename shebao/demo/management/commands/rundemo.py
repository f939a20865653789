"""`manage.py rundemo`: the web server and the background worker clusters, in the foreground.

The demo runs as a user sees the product: DEBUG is off (the product's own 404, 403 and 500
pages, never Django's technical ones; whitenoise serves the static files) unless DEBUG is
set in the environment, and the address served is an allowed host.

Starts four processes: `runserver` on 127.0.0.1:8000, `qcluster` with Q_CLUSTER_NAME=short
(single audits, the stuck-audit sweeper), `qcluster` with Q_CLUSTER_NAME=long (batches,
draft expiry) and `qcluster` with Q_CLUSTER_NAME=outbox (the message centre's messages and
the API's webhooks). Ctrl-C
(SIGINT) or SIGTERM stops all of them; if any of them dies, the others
are stopped too and the command exits with its status. Beside them, the fake ID card reader
(shebao.demo.fake_reader, docs/reader.md) on 127.0.0.1:19196, unless the port is taken.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from shebao.demo import data

GRACE_SECONDS = 15


def demo_environment(addrport: str, environ) -> dict[str, str]:
    """DEBUG off and the served host allowed, unless the environment says otherwise."""
    out = {}
    if "DEBUG" not in environ:
        out["DEBUG"] = "0"
    host = addrport.rpartition(":")[0] if ":" in addrport else ""
    host = host.strip("[]")
    if host and "ALLOWED_HOSTS" not in environ:
        allowed = list(settings.ALLOWED_HOSTS)
        # Served on every interface: reached by whatever name or address the machine has.
        extra = "*" if host in ("0.0.0.0", "::") else host
        if extra not in allowed:
            allowed.append(extra)
        out["ALLOWED_HOSTS"] = ",".join(allowed)
    return out


class Command(BaseCommand):
    help = "Run the demo: web server and the short, long and outbox django-q2 clusters; Ctrl-C stops all."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="web server address:port")

    def handle(self, *args, addrport: str, **options):
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        python = sys.executable
        # Show the workers' start-up and task lines (django-q2 logs at INFO) unless told otherwise.
        worker_log_level = os.environ.get("LOG_LEVEL", "INFO")
        commands: dict[str, tuple[list[str], dict[str, str]]] = {
            "web": ([python, manage, "runserver", "--noreload", addrport], {})
        }
        for cluster in (settings.Q_SHORT, settings.Q_LONG, settings.Q_OUTBOX):
            commands[f"worker-{cluster}"] = (
                [python, manage, "qcluster"],
                {"Q_CLUSTER_NAME": cluster, "LOG_LEVEL": worker_log_level},
            )
        demo_env = demo_environment(addrport, os.environ)
        for _argv, extra_env in commands.values():
            extra_env.update(demo_env)
        self.stdout.write(data.logins_table().replace(data.DEMO_URL, f"http://{addrport}"))
        self.stdout.write("Starting web server and workers; press Ctrl-C to stop all of them.")
        self.stdout.flush()

        children: dict[str, subprocess.Popen] = {}
        stopping = {"signal": None}

        def on_signal(signum, frame):
            stopping["signal"] = signum

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)

        for name, (argv, extra_env) in commands.items():
            env = {**os.environ, **extra_env, "PYTHONUNBUFFERED": "1"}
            children[name] = subprocess.Popen(argv, env=env)
        reader = self.start_fake_reader(python)

        exit_code = 0
        try:
            while stopping["signal"] is None:
                dead = [(name, proc.returncode) for name, proc in children.items() if proc.poll() is not None]
                if dead:
                    name, code = dead[0]
                    self.stderr.write(f"rundemo: {name} exited with status {code}; stopping the others.")
                    exit_code = code or 1
                    break
                time.sleep(0.3)
        finally:
            self.stop(children)
            if reader is not None:
                self.stop({"fake-reader": reader})
        if stopping["signal"] is not None:
            self.stdout.write("rundemo: stopped.")
            return
        sys.exit(exit_code)

    def start_fake_reader(self, python: str) -> subprocess.Popen | None:
        """The fake ID card reader (shebao.demo.fake_reader) on FAKE_READER_ADDR (127.0.0.1:19196),
        for the 读卡器 button; skipped with a message when the port is taken (a real reader's
        service, or another demo). Not one of the processes whose death stops the demo."""
        host, _sep, port = os.environ.get("FAKE_READER_ADDR", "127.0.0.1:19196").rpartition(":")
        try:
            with socket.create_server((host, int(port))):
                pass
        except OSError as error:
            self.stdout.write(f"Fake ID card reader not started: {host}:{port} is in use ({error.strerror}).")
            return None
        self.stdout.write(f"Fake ID card reader (读卡器) at http://{host}:{port}: shebao/demo/fake_reader.py")
        argv = [python, "-m", "shebao.demo.fake_reader", "--host", host, "--port", port]
        return subprocess.Popen(argv, env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=str(settings.BASE_DIR))

    def stop(self, children: dict[str, subprocess.Popen]) -> None:
        # Forward SIGTERM (qcluster finishes its current task and exits; runserver exits).
        for proc in children.values():
            if proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + GRACE_SECONDS
        for proc in children.values():
            remaining = max(0.1, deadline - time.monotonic())
            try:
                proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

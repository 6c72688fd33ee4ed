"""``make run``'s whole stack in a subprocess, for the web benchmark and screenshots:
yields the web service's URL and the local owner token, stops everything after."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def local_stack() -> Iterator[tuple[str, str]]:
    with tempfile.TemporaryDirectory(prefix="bench-web-") as scratch:
        log = Path(scratch) / "stack.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTLINE_")}
        command = [sys.executable, "-m", "slotline.events.cli", "run", "--data-dir", scratch]
        with log.open("w") as out:
            stack = subprocess.Popen(
                [*command, "--base-port", "0"], stdout=out, stderr=subprocess.STDOUT, env=env
            )
        try:
            deadline = time.monotonic() + 180
            text = ""
            while "Ctrl-C stops" not in text:
                if stack.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the stack did not start:\n" + text[-3000:])
                time.sleep(0.5)
                text = re.sub(r"\x1b\[[0-9;]*m", "", log.read_text(errors="replace"))
            web = re.search(r"booking page: (http://\S+)/demo", text)
            token = re.search(r"\|\s+(ey[\w-]+\.[\w-]+\.[\w-]+)", text)
            if web is None or token is None:
                raise RuntimeError("no web URL or token in the banner:\n" + text[-3000:])
            yield web.group(1), token.group(1)
        finally:
            stack.send_signal(signal.SIGINT)
            try:
                stack.wait(timeout=60)
            except subprocess.TimeoutExpired:
                stack.kill()

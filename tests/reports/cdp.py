"""A minimal Chrome DevTools Protocol client over --remote-debugging-pipe (standard library only).

Chromium reads commands on fd 3 and writes replies and events on fd 4, each
message JSON terminated by a NUL byte — no WebSocket, no port, nothing to
download. Used by the browser test to load pages, collect console errors and
exceptions, inspect charts and take screenshots.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-quic")


class CDPError(RuntimeError):
    pass


class Browser:
    def __init__(self, binary: str, user_data_dir: Path, log: Path,
                 size: tuple[int, int] = (1280, 900)) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # Park the child's ends above 10 so the dup2 to 3 and 4 cannot clobber one another.
        hi_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD_CLOEXEC, 10)
        hi_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_chrome_r)
        os.close(from_chrome_w)

        def child_fds() -> None:
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        self._log = log.open("wb")
        argv = [binary, *FLAGS, f"--user-data-dir={user_data_dir}", "--remote-debugging-pipe",
                f"--window-size={size[0]},{size[1]}", "about:blank"]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, close_fds=False,
                                     preexec_fn=child_fds)  # noqa: PLW1509
        os.close(hi_r)
        os.close(hi_w)
        self._next = 0
        self._replies: dict[int, dict] = {}
        self._cond = threading.Condition()
        self.events: queue.Queue[dict] = queue.Queue()
        self._closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._cond:
                        self._replies[msg["id"]] = msg
                        self._cond.notify_all()
                else:
                    self.events.put(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict:
        self._next += 1
        ident = self._next
        msg: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        try:
            os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        except OSError as exc:
            self.proc.poll()
            raise CDPError(f"{method}: cannot talk to chromium ({exc.strerror}; exit code "
                           f"{self.proc.returncode}); its log ends with:\n{self.log_tail()}"
                           ) from None
        deadline = time.monotonic() + timeout
        with self._cond:
            while ident not in self._replies:
                left = deadline - time.monotonic()
                if self._closed:
                    raise CDPError(f"{method}: chromium closed the pipe; its log "
                                   f"({self._log.name}) ends with:\n{self.log_tail()}")
                if left <= 0:
                    raise CDPError(f"{method}: no reply within {timeout}s")
                self._cond.wait(left)
            reply = self._replies.pop(ident)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def log_tail(self, lines: int = 15) -> str:
        self._log.flush()
        text = Path(self._log.name).read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (CDPError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        self._log.close()


class Page:
    """One tab: navigate, collect console problems, evaluate, screenshot."""

    def __init__(self, browser: Browser) -> None:
        self.b = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget",
                                    {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.problems: list[str] = []

    def send(self, method: str, params: dict | None = None, timeout: float = 30.0) -> dict:
        return self.b.send(method, params, self.session, timeout)

    def _drain(self, until: str | None = None, timeout: float = 30.0) -> bool:
        """Collect events; with ``until``, wait for that event of this session."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if until is None:
                left = 0.05
            elif left <= 0:
                return False
            try:
                ev = self.b.events.get(timeout=left)
            except queue.Empty:
                return until is None
            if ev.get("sessionId") != self.session:
                continue
            method, params = ev.get("method"), ev.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                text = " ".join(str(a.get("value", a.get("description", "")))
                                for a in params.get("args", []))
                self.problems.append(f"console.{params['type']}: {text}")
            elif method == "Runtime.exceptionThrown":
                d = params.get("exceptionDetails", {})
                self.problems.append("uncaught exception: " + str(
                    d.get("exception", {}).get("description") or d.get("text")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                e = params["entry"]
                self.problems.append(f"log error ({e.get('source')}): {e.get('text')} "
                                     f"{e.get('url', '')}")
            if until is not None and method == until:
                return True

    def goto(self, url: str, timeout: float = 60.0) -> None:
        self.send("Page.navigate", {"url": url})
        if not self._drain("Page.loadEventFired", timeout):
            raise CDPError(f"{url}: the load event did not come within {timeout}s")

    def evaluate(self, expression: str) -> Any:
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in r:
            raise CDPError(f"evaluate failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            self._drain()
            time.sleep(0.05)
        raise CDPError(f"timed out waiting for {expression}")

    def settle(self) -> list[str]:
        """Collect the events that arrived so far; return the console problems."""
        self._drain()
        return list(self.problems)

    def screenshot(self, path: Path, width: int = 1280) -> None:
        metrics = self.send("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        height = min(int(size["height"]) + 1, 16000)
        shot = self.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))

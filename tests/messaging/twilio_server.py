"""A local stand-in for api.twilio.com: a real HTTP server on 127.0.0.1 that records requests and
answers like Twilio's Messages API, so the real `twilio` library is exercised end to end.

What it models, as Twilio documents it:
- POST …/Messages.json creates a message (sid, status "accepted", date_created in RFC 2822,
  direction "outbound-api", num_media) unless an answer was scripted (`responses`);
- GET …/Messages.json lists messages, newest first, filtered by `To` (and `From`), in pages
  (`PageSize`, `Page`, `next_page_uri`); GET …/Messages/<sid>.json fetches one;
- no client reference is kept on a message (Twilio keeps none): what we sent is found by number,
  time and text only.

Fault injection for the reliability tests: `delay_seconds` (every request waits, e.g. a slow
Twilio), `hang_next(seconds, create=...)` (the next POST waits longer than the client's timeout and
then records the message or loses it), `down` (every request answers 500), `on_post` / `on_get`
(a callback run when a request arrives, before answering: e.g. terminate the app's database
connections mid-dispatch)."""

import base64
import email.utils
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeTwilio:
    def __init__(self):
        self.requests: list[dict] = []
        self.responses: list[tuple[int, dict]] = []  # scripted (status, json) answers, FIFO
        self.messages: list[dict] = []
        self.delay_seconds = 0.0
        self.down = False
        self.on_post = None
        self.on_get = None
        self._hangs: list[tuple[float, bool]] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _record(self, body: bytes):
                auth = self.headers.get("Authorization", "")
                user = ""
                if auth.startswith("Basic "):
                    user = base64.b64decode(auth[6:]).decode()
                parts = urlsplit(self.path)
                entry = {
                    "method": self.command,
                    "path": parts.path,
                    "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
                    "form": {k: v[0] for k, v in parse_qs(body.decode()).items()},
                    "auth": user,
                }
                with fake._lock:
                    fake.requests.append(entry)
                return entry

            def _answer(self, status, payload):
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): what happened here still happened

            def _down(self):
                return self._answer(500, {"code": 20500, "message": "Internal Server Error", "status": 500})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                entry = self._record(self.rfile.read(length))
                if fake.on_post is not None:
                    fake.on_post(entry)
                if fake.delay_seconds:
                    time.sleep(fake.delay_seconds)
                if fake.down:
                    return self._down()
                with fake._lock:
                    scripted = fake.responses.pop(0) if fake.responses else None
                    hang = fake._hangs.pop(0) if fake._hangs else None
                if scripted is not None:
                    return self._answer(*scripted)
                if hang is not None:
                    seconds, create = hang
                    time.sleep(seconds)
                    if not create:
                        return self._down()  # lost: the client stopped waiting long ago
                message = fake.create(entry["form"])
                return self._answer(201, message)

            def do_GET(self):
                entry = self._record(b"")
                if fake.on_get is not None:
                    fake.on_get(entry)
                if fake.delay_seconds:
                    time.sleep(fake.delay_seconds)
                if fake.down:
                    return self._down()
                path = entry["path"]
                if path.endswith("/Messages.json"):
                    return self._answer(200, fake.page(entry["query"], path))
                sid = path.rsplit("/", 1)[-1].removesuffix(".json")
                found = [m for m in fake.messages if m["sid"] == sid]
                if not found:
                    return self._answer(404, {"code": 20404, "message": "not found", "status": 404})
                return self._answer(200, found[0])

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def create(self, form: dict) -> dict:
        """Record a message as Twilio would have accepted it (also for tests that stage history)."""
        now = email.utils.formatdate(time.time(), usegmt=True)
        message = {
            "sid": "SM" + uuid.uuid4().hex,
            "status": "accepted",
            "direction": "outbound-api",
            "to": form.get("To"),
            "from": None,
            "body": form.get("Body"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
        }
        with self._lock:
            self.messages.append(message)
        return message

    def page(self, query: dict, path: str) -> dict:
        to = query.get("To")
        found = [m for m in reversed(self.messages) if to is None or m["to"] == to]  # newest first
        size = int(query.get("PageSize", 50))
        number = int(query.get("Page", 0))
        chunk = found[number * size : (number + 1) * size]
        more = (number + 1) * size < len(found)
        next_uri = f"{path}?To={to}&PageSize={size}&Page={number + 1}" if more else None
        return {
            "messages": chunk,
            "end": number * size + len(chunk) - 1,
            "first_page_uri": f"{path}?PageSize={size}&Page=0",
            "next_page_uri": next_uri,
            "page": number,
            "page_size": size,
            "previous_page_uri": None,
            "start": number * size,
            "uri": path,
        }

    def hang_next(self, seconds: float, *, create: bool) -> None:
        """The next POST answers only after `seconds`; `create`: whether Twilio kept the message."""
        self._hangs.append((seconds, create))

    def sent_to(self, to: str) -> list[dict]:
        return [m for m in self.messages if m["to"] == to]

    def posts(self) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST"]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

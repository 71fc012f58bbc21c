"""A local stand-in for api.twilio.com: a real HTTP server on 127.0.0.1 that records requests and
answers like Twilio's Messages API, so the real `twilio` library is exercised end to end."""

import base64
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeTwilio:
    def __init__(self):
        self.requests: list[dict] = []
        self.responses: list[tuple[int, dict]] = []  # scripted (status, json) answers, FIFO
        self.messages: list[dict] = []
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
                fake.requests.append(entry)
                return entry

            def _answer(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                entry = self._record(self.rfile.read(length))
                if fake.responses:
                    status, payload = fake.responses.pop(0)
                    return self._answer(status, payload)
                sid = "SM" + uuid.uuid4().hex
                message = {
                    "sid": sid,
                    "status": "accepted",
                    "to": entry["form"].get("To"),
                    "body": entry["form"].get("Body"),
                    "messaging_service_sid": entry["form"].get("MessagingServiceSid"),
                }
                fake.messages.append(message)
                return self._answer(201, message)

            def do_GET(self):
                entry = self._record(b"")
                to = entry["query"].get("To")
                found = [m for m in fake.messages if m["to"] == to]
                return self._answer(
                    200,
                    {
                        "messages": found,
                        "end": 0,
                        "first_page_uri": "",
                        "next_page_uri": None,
                        "page": 0,
                        "page_size": 50,
                        "previous_page_uri": None,
                        "start": 0,
                        "uri": self.path,
                    },
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

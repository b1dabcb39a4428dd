"""``symgraph serve``: the playground page and its JSON API on the local machine.

GET ``/`` is the page, GET ``/static/...`` its files (all in the package: no CDN),
POST ``/api/run`` the API (:mod:`.api`, in a :class:`~.worker.Worker` with a time budget).
"""

from __future__ import annotations

import mimetypes
import threading
import webbrowser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .api import MAX_REQUEST_BYTES
from .worker import Worker

STATIC = Path(__file__).parent / "static"


def _handler(worker: Worker) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet: the terminal shows the address only
            pass

        def _send(self, code: int, body: bytes, kind: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            rel = "index.html" if path == "/" else path.removeprefix("/static/")
            file = (STATIC / rel).resolve()
            inside = file.is_relative_to(STATIC.resolve()) and file.is_file()
            if (path != "/" and not path.startswith("/static/")) or not inside:
                self._send(404, b"not found", "text/plain")
                return
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            self._send(200, file.read_bytes(), kind)

        def do_POST(self) -> None:
            if self.path != "/api/run":
                self._send(404, b"not found", "text/plain")
                return
            given = self.headers.get("Content-Length") or "0"
            size = int(given) if given.isdigit() else -1  # a sign or junk: no length at all
            if not 0 <= size <= MAX_REQUEST_BYTES:
                code, why = (413, "too large") if size > 0 else (400, "no valid Content-Length")
                body = f'{{"ok": false, "error": {{"message": "{why}"}}}}'.encode()
                self._send(code, body, "application/json")
                return
            text = self.rfile.read(size).decode("utf-8", "replace")
            self._send(200, worker.run_json(text).encode("utf-8"), "application/json")

    return Handler


def serve(host: str = "127.0.0.1", port: int = 8000, open_page: bool = False) -> None:
    """Serve until interrupted; ``port`` 0 picks a free one (the address is printed)."""
    worker = Worker()
    server = ThreadingHTTPServer((host, port), _handler(worker))
    url = f"http://{host}:{server.server_address[1]}/"
    print(f"symgraph playground at {url} (Ctrl-C stops it)", flush=True)
    if open_page:
        threading.Timer(0.2, webbrowser.open, (url,)).start()
    try:
        server.serve_forever()
    finally:
        server.server_close()
        worker.close()

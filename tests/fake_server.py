"""What the local fakes of outside services share (tests/fake_twilio.py, fake_aliyun.py,
fake_aliyun_vms.py, fake_pbx.py): a threaded HTTP server on 127.0.0.1 and its lifecycle. A fake
sets `name` and `handler` (its request handler, which reads the fake as `self.server.fake`),
keeps `host`, `port`, `_stopping` (set by stop(): wakes handlers holding back an answer) and
`_server` / `_thread` (None until started)."""

import threading
from http.server import ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    # The default backlog of 5 drops connections when a pool of workers sends at once, which
    # would show up as connect timeouts that the real services do not cause.
    request_queue_size = 128
    daemon_threads = True


class FakeServer:
    name = "fake"
    handler = None  # the fake's BaseHTTPRequestHandler subclass

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def start(self):
        self._stopping.clear()
        self._server = Server((self.host, self.port), self.handler)
        self._server.fake = self
        self.port = self._server.server_address[1]  # the real one when port=0
        # A short poll, because stop() waits for the loop to notice (0.5 s by default, per test).
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=self.name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

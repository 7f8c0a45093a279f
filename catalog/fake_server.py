"""The HTTP plumbing of our fake services (catalog/simulator.py, payments/fakes.py), standard library only:
a threaded server that binds without a reverse DNS lookup, keeps track of its kept-alive connections so that
stopping it really ends them, and does not log clients that went away; and a runner that serves it in a
daemon thread for tests and benchmarks, or in the foreground for a management command."""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

logger = logging.getLogger("catalog.fake_server")


class FakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]):
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the host, which can stall on some machines."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request, client_address) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        """Log unexpected errors; a client that went away is not one."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            logger.exception("Unexpected error while answering a request")

    def close_connections(self) -> None:
        """End kept-alive connections too, so a stopped server is gone for its clients."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class ServerRunner:
    """Serves `httpd` in a daemon thread (`start`, once) or in the foreground (`serve_forever`); `stop`
    ends both, connections included."""

    thread_name = "fake-server"

    def __init__(self, httpd: FakeHTTPServer):
        self._httpd = httpd
        self.port: int = httpd.server_address[1]
        self._thread: threading.Thread | None = None

    def start(self):
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=self.thread_name,
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.2)

    def serve_until_interrupted(self) -> None:
        """Serve in the foreground until Ctrl-C, then stop (a management command's loop)."""
        try:
            self.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.close_connections()
        self._httpd.server_close()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

"""bad_server.py MODE PORTFILE — an HTTP server on 127.0.0.1 that MLflow tracking must survive.

MODE 500: answers every request with HTTP 500 and MLflow's error body. MODE silent: accepts
connections and never answers. Writes its port to PORTFILE once listening; runs until killed.
"""
import http.server
import socket
import sys


class Failing(http.server.BaseHTTPRequestHandler):
    def answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"error_code": "INTERNAL_ERROR", "message": "the test server always fails"}')

    do_GET = do_POST = do_PUT = answer

    def log_message(self, *args):
        pass


def main(mode, port_file):
    if mode == "500":
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
        port = server.server_address[1]
    else:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        port = listener.getsockname()[1]
    with open(port_file, "w") as f:
        f.write(str(port))
    if mode == "500":
        server.serve_forever()
    held = []
    while True:
        held.append(listener.accept()[0])  # kept open, never answered


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

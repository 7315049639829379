#!/usr/bin/env python3
"""A misbehaving registry for retry tests (Python 3 stdlib only).

    flaky-server.py DIR BLOBFILE PLAN

Binds 127.0.0.1 on a free port and writes it to DIR/flaky.port.  GET /v2/
answers 200.  GET /v2/<repo>/blobs/<digest> serves BLOBFILE; the n-th such
request follows the n-th comma-separated step of PLAN (the last step
repeats):

    429       429 Too Many Requests, Retry-After: 1
    429long   429 Too Many Requests, Retry-After: 3600
    503       503 Service Unavailable
    half      200 with the whole Content-Length, half the body, then the
              connection drops
    full      200 and the whole blob, whatever Range asked (a server that
              ignores Range)
    range     206 for a Range request (else 200), as a real registry does

Every request is logged to DIR/flaky.log as "<method> <path> <Range or ->".
"""
import http.server
import os
import re
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def log_request_line(self):
        st = self.server.state
        with st["lock"], open(os.path.join(st["dir"], "flaky.log"), "a") as f:
            f.write("%s %s %s\n" % (self.command, self.path, self.headers.get("Range", "-")))

    def empty(self, status, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def next_step(self):
        st = self.server.state
        with st["lock"]:
            plan = st["plan"]
            step = plan[min(st["n"], len(plan) - 1)]
            st["n"] += 1
        return step

    def blob(self, head):
        data = self.server.state["blob"]
        step = "full" if head else self.next_step()
        if step in ("429", "429long"):
            self.empty(429, [("Retry-After", "1" if step == "429" else "3600")])
            return
        if step == "503":
            self.empty(503)
            return
        m = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
        start = int(m.group(1)) if step == "range" and m else 0
        body = data[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        if start:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        self.end_headers()
        if head:
            return
        if step == "half":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def route(self, head):
        self.log_request_line()
        if self.path == "/v2/":
            self.empty(200)
        elif re.match(r"^/v2/.+/blobs/sha256:[0-9a-f]{64}$", self.path):
            self.blob(head)
        else:
            self.empty(404)

    def do_GET(self):
        self.route(False)

    def do_HEAD(self):
        self.route(True)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: flaky-server.py DIR BLOBFILE PLAN")
    d, blobfile, plan = sys.argv[1:]
    with open(blobfile, "rb") as f:
        blob = f.read()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.state = {"dir": d, "blob": blob, "plan": plan.split(","), "n": 0, "lock": threading.Lock()}
    tmp = os.path.join(d, "flaky.port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % httpd.server_address[1])
    os.rename(tmp, os.path.join(d, "flaky.port"))
    httpd.serve_forever()


if __name__ == "__main__":
    main()

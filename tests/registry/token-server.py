#!/usr/bin/env python3
"""A tiny Docker token server for the registry tests (Python 3 stdlib only).

    token-server.py DIR

Credentials come from $BERTH_TOKEN_CREDS ("user:pass"), kept out of argv.
At start it makes an RSA key and a self-signed certificate with the openssl
CLI (DIR/token.key, DIR/token.crt: docker-registry's rootcertbundle), binds
127.0.0.1 on a free port and writes the port to DIR/token.port.

GET /token?service=S&scope=A&scope=B with basic auth: a JWT (RS256) whose
header carries the certificate in x5c (distribution 2.8 verifies the chain
against its rootcertbundle and takes the key from the leaf), granting every
action asked for.  No or wrong credentials: 401.  Each request is logged to
DIR/token.log as "<user or -> <status> <scope> <scope>...", actions sorted,
so tests can check which scopes a client asked for.
"""
import base64
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

ISSUER = "berth-token-server"
SERVICE = "berth-registry"
LIFETIME = 300


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_key(d):
    key, crt = os.path.join(d, "token.key"), os.path.join(d, "token.crt")
    if not os.path.exists(crt):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
                        "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=" + ISSUER],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(crt) as f:
        pem = f.read()
    # x5c is the standard base64 of the DER certificate: the PEM body
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return key, "".join(body.split())


def parse_scope(s):
    """"repository:name:pull,push" -> (type, name, sorted actions); the name
    may hold colons (a host:port), so type is the first part, actions the last."""
    parts = s.split(":")
    if len(parts) < 3:
        return None
    return parts[0], ":".join(parts[1:-1]), sorted(a for a in parts[-1].split(",") if a)


class Server:
    def __init__(self, d, creds):
        self.dir = d
        self.creds = creds
        self.key, self.x5c = make_key(d)
        self.lock = threading.Lock()

    def sign(self, claims):
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key], input=signing_input.encode(),
                             check=True, stdout=subprocess.PIPE).stdout
        return signing_input + "." + b64url(sig)

    def log(self, user, status, scopes):
        line = "%s %d %s\n" % (user or "-", status, " ".join(scopes))
        with self.lock, open(os.path.join(self.dir, "token.log"), "a") as f:
            f.write(line)


def user_of(handler, creds):
    """The user name when the basic credentials are right, else None."""
    h = handler.headers.get("Authorization", "")
    if not h.lower().startswith("basic "):
        return None, False
    try:
        given = base64.b64decode(h[6:].strip()).decode()
    except ValueError:
        return None, True
    return (given.split(":", 1)[0], True) if given == creds else (None, True)


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "berth-token-server"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        srv = self.server.state
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/token":
            self.answer(404, {"errors": [{"code": "NOT_FOUND", "message": "no such path"}]})
            return
        q = urllib.parse.parse_qs(url.query)
        scopes = []
        for s in q.get("scope", []):
            scopes.extend(s.split())
        parsed = [p for p in map(parse_scope, scopes) if p]
        logged = ["%s:%s:%s" % (t, n, ",".join(a)) for t, n, a in parsed]
        user, tried = user_of(self, srv.creds)
        if user is None:
            srv.log(None, 401, logged)
            msg = "wrong username or password" if tried else "authentication required"
            self.answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": msg}]},
                        {"WWW-Authenticate": 'Basic realm="berth-token"'})
            return
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": user,
            "aud": q.get("service", [SERVICE])[0],
            "exp": now + LIFETIME,
            "nbf": now - 10,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "access": [{"type": t, "name": n, "actions": a} for t, n, a in parsed],
        }
        token = srv.sign(claims)
        srv.log(user, 200, logged)
        self.answer(200, {"token": token, "access_token": token, "expires_in": LIFETIME,
                          "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: token-server.py DIR")
    d = sys.argv[1]
    creds = os.environ.get("BERTH_TOKEN_CREDS", "")
    if ":" not in creds:
        sys.exit("token-server.py: BERTH_TOKEN_CREDS must be user:pass")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.state = Server(d, creds)
    tmp = os.path.join(d, "token.port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % httpd.server_address[1])
    os.rename(tmp, os.path.join(d, "token.port"))
    httpd.serve_forever()


if __name__ == "__main__":
    main()

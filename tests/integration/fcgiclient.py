"""A small FastCGI client (the web server's side of the protocol), so that
the tests can talk to acme-fcgi directly, without nginx or Apache: to see
exactly which requests were answered, refused at connect, or cut.

    r = fcgiclient.request("unix:/path/sock", "GET", "/directory")
    r.status, r.headers["content-type"], r.body
"""

import socket
import struct
import time

VERSION = 1
BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = \
    1, 2, 3, 4, 5, 6, 7
RESPONDER = 1


class Refused(Exception):
    """The connection could not be made (nobody listens)."""


class Cut(Exception):
    """The connection was made but closed before a complete response."""


class Response:
    def __init__(self, status, headers, body, stderr):
        self.status = status
        self.headers = headers      # lower-case names; last value wins
        self.body = body
        self.stderr = stderr

    def json(self):
        import json
        return json.loads(self.body)


def _record(rtype, content, req_id=1):
    out = b""
    # records carry at most 65535 bytes; an empty one ends a stream
    chunks = [content[i:i + 65535] for i in range(0, len(content), 65535)] \
        or [b""]
    for c in chunks:
        out += struct.pack(">BBHHBx", VERSION, rtype, req_id, len(c), 0) + c
    return out


def _pair_len(n):
    return struct.pack(">B", n) if n < 128 else \
        struct.pack(">I", n | 0x80000000)


def _params(params):
    data = b""
    for k, v in params.items():
        k = k.encode()
        v = v.encode() if isinstance(v, str) else v
        data += _pair_len(len(k)) + _pair_len(len(v)) + k + v
    return data


def connect(address, timeout=10):
    """A socket connected to "unix:/path" or "host:port"; Refused if none
    listens there."""
    try:
        if address.startswith("unix:"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout)
            s.connect(address[5:])
        else:
            host, port = address.rsplit(":", 1)
            s = socket.create_connection((host, int(port)), timeout=timeout)
            s.settimeout(timeout)
    except (FileNotFoundError, ConnectionRefusedError) as e:
        raise Refused(str(e))
    return s


def params_for(method, uri, body=b"", content_type=None, extra=None):
    """The parameters nginx's acme-locations.conf passes."""
    p = {"REQUEST_METHOD": method, "REQUEST_URI": uri,
         "CONTENT_LENGTH": str(len(body)) if body else "",
         "CONTENT_TYPE": content_type or ""}
    p.update(extra or {})
    return p


def send_head(s, params):
    """BEGIN_REQUEST and the parameters."""
    begin = struct.pack(">HB5x", RESPONDER, 0)
    s.sendall(_record(BEGIN_REQUEST, begin) + _record(PARAMS, _params(params))
              + _record(PARAMS, b""))


def send_body(s, body, end=True):
    if body:
        s.sendall(_record(STDIN, body))
    if end:
        s.sendall(_record(STDIN, b""))


def read_response(s):
    """Reads records up to END_REQUEST; returns a Response, or raises Cut
    when the connection ends (or resets) first."""
    out = b""
    err = b""
    buf = b""

    def need(n):
        nonlocal buf
        while len(buf) < n:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, BrokenPipeError) as e:
                raise Cut("reset: %s" % e)
            if not chunk:
                raise Cut("closed after %d bytes of output" % len(out))
            buf += chunk
        data, buf = buf[:n], buf[n:]
        return data

    while True:
        _, rtype, _, clen, plen = struct.unpack(">BBHHBx", need(8))
        content = need(clen)
        need(plen)
        if rtype == STDOUT:
            out += content
        elif rtype == STDERR:
            err += content
        elif rtype == END_REQUEST:
            break
    head, _, body = out.partition(b"\r\n\r\n")
    headers = {}
    status = 200
    for line in head.decode("latin-1").split("\r\n"):
        if ":" not in line:
            continue
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    if "status" in headers:
        status = int(headers["status"].split()[0])
    return Response(status, headers, body, err)


def request(address, method, uri, body=b"", content_type=None, extra=None,
            timeout=10):
    """One request on a fresh connection; returns a Response. Raises Refused
    (could not connect) or Cut (no complete response)."""
    s = connect(address, timeout)
    try:
        try:
            send_head(s, params_for(method, uri, body, content_type, extra))
            send_body(s, body)
        except (ConnectionResetError, BrokenPipeError) as e:
            raise Cut("reset while sending: %s" % e)
        return read_response(s)
    finally:
        s.close()


def slow_request(address, method, uri, body, content_type, pause,
                 on_sent=None, timeout=20):
    """A request whose body arrives in two halves, pause seconds apart: it
    stays in flight in acme-fcgi meanwhile. on_sent() is called once the
    first half is sent. Returns a Response; raises Refused or Cut."""
    s = connect(address, timeout)
    try:
        try:
            send_head(s, params_for(method, uri, body, content_type))
            half = len(body) // 2
            send_body(s, body[:half], end=False)
            if on_sent is not None:
                on_sent()
            time.sleep(pause)
            send_body(s, body[half:])
        except (ConnectionResetError, BrokenPipeError) as e:
            raise Cut("reset while sending: %s" % e)
        return read_response(s)
    finally:
        s.close()

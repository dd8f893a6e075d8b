"""An HTTP client of acme-web's pages for the tests (test_web_*.py): HTTPS
to the stack's nginx vhosts (trusting the stack's TLS CA, with a TLS client
certificate for the office), a cookie jar that keeps every attribute of the
Set-Cookie lines it saw, no automatic redirect (a test sees the 303), and
a small HTML reader of forms and links, so that a test fills a form the way
a browser would: every field the page put in it (hidden CSRF token
included), the test's values over them.

    c = WebClient(stack.web_url, stack.tls_ca)
    r = c.get("/signup")
    f = r.form("/signup")             # the form posting to /signup
    r = c.submit(f, {"email": ...})   # POST with its fields + ours
    r.status, r.location, r.text, r.header("content-security-policy")
"""

import html.parser
import http.client
import json
import os
import re
import socket
import ssl
import urllib.parse
import uuid


class Cookie:
    """One Set-Cookie line: name, value and its attributes (lower-case
    names; flags map to True)."""

    def __init__(self, line):
        parts = [p.strip() for p in line.split(";")]
        self.line = line
        self.name, _, self.value = parts[0].partition("=")
        self.attrs = {}
        for p in parts[1:]:
            if not p:
                continue
            k, eq, v = p.partition("=")
            self.attrs[k.strip().lower()] = v.strip() if eq else True

    def cleared(self):
        """True if the line removes the cookie (empty, or expired)."""
        if self.value == "":
            return True
        ma = self.attrs.get("max-age")
        if isinstance(ma, str) and ma.lstrip("-").isdigit() and int(ma) <= 0:
            return True
        exp = self.attrs.get("expires")
        return isinstance(exp, str) and "1970" in exp


class Form:
    """A <form> of a page: its action, method, enctype, its fields in order
    ((name, value) of inputs, selects and textareas; a checkbox or radio
    only when checked), the options of its selects, and its buttons."""

    def __init__(self, attrs):
        self.action = attrs.get("action") or ""
        self.method = (attrs.get("method") or "get").upper()
        self.enctype = attrs.get("enctype") or \
            "application/x-www-form-urlencoded"
        self.fields = []
        self.types = {}
        self.options = {}
        self.buttons = []
        self.labels = []

    def get(self, name):
        for k, v in self.fields:
            if k == name:
                return v
        return None

    def names(self):
        return [k for k, _ in self.fields]

    def __repr__(self):
        return "<Form %s %s %s>" % (self.method, self.action, self.names())


class _Reader(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.links = []
        self.form = None
        self.select = None
        self.select_first = None
        self.option = None
        self.textarea = None
        self.button = None
        self.title = ""
        self.in_title = False
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "title":
            self.in_title = True
        elif tag == "script":
            self.scripts += 1
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "form":
            self.form = Form(a)
            self.forms.append(self.form)
        elif self.form is None:
            return
        elif tag == "input":
            name = a.get("name")
            typ = (a.get("type") or "text").lower()
            if typ in ("submit", "image", "button", "reset"):
                self.form.buttons.append((name, a.get("value", "")))
                if name:
                    self.form.types.setdefault(name, typ)
                return
            if not name:
                return
            self.form.types.setdefault(name, typ)
            if typ in ("checkbox", "radio"):
                self.form.options.setdefault(name, []).append(
                    a.get("value", "on"))
                if "checked" in a:
                    self.form.fields.append((name, a.get("value", "on")))
            elif typ != "file":
                self.form.fields.append((name, a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self.select = a["name"]
            self.select_first = None
            self.form.types.setdefault(self.select, "select")
            self.form.options.setdefault(self.select, [])
            self.form.fields.append((self.select, None))
        elif tag == "option" and self.select is not None:
            v = a.get("value")
            self.option = [v, "", "selected" in a]
        elif tag == "textarea" and a.get("name"):
            self.textarea = [a["name"], ""]
            self.form.types.setdefault(a["name"], "textarea")
        elif tag == "button":
            self.button = [a.get("name"), a.get("value", ""), "",
                           (a.get("type") or "submit").lower()]

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        if self.option is not None:
            self.option[1] += data
        if self.textarea is not None:
            self.textarea[1] += data
        if self.button is not None:
            self.button[2] += data

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        elif tag == "option" and self.option is not None:
            v, label, selected = self.option
            v = label.strip() if v is None else v
            self.form.options[self.select].append(v)
            fields = self.form.fields
            for i in range(len(fields) - 1, -1, -1):
                if fields[i][0] == self.select:
                    if fields[i][1] is None or selected:
                        fields[i] = (self.select, v)
                    break
            self.option = None
        elif tag == "select":
            self.form.fields = [(k, "" if v is None else v)
                                for k, v in self.form.fields]
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.form.fields.append(tuple(self.textarea))
            self.textarea = None
        elif tag == "button" and self.button is not None:
            name, value, text, typ = self.button
            if typ == "submit" and self.form is not None:
                self.form.buttons.append((name, value, text.strip()))
                if name:
                    self.form.types.setdefault(name, "submit")
            self.button = None
        elif tag == "form":
            self.form = None


class Resp:
    """A response: status, headers (list of (name, value), names
    lower-case), body (bytes), and what was read from its HTML."""

    def __init__(self, method, url, status, headers, body):
        self.method = method
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body
        self._reader = None

    def header(self, name):
        """The last value of a header, or None."""
        vals = self.header_all(name)
        return vals[-1] if vals else None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    @property
    def location(self):
        return self.header("location")

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    @property
    def cookies(self):
        """The Set-Cookie lines of the response, as Cookie objects."""
        return [Cookie(v) for v in self.header_all("set-cookie")]

    def _read(self):
        if self._reader is None:
            self._reader = _Reader()
            self._reader.feed(self.text)
            self._reader.close()
        return self._reader

    @property
    def forms(self):
        return self._read().forms

    @property
    def links(self):
        return self._read().links

    @property
    def title(self):
        return self._read().title.strip()

    def form(self, action=None, button=None, field=None):
        """The first form whose action matches the regular expression (or
        equals the string) `action`, having a button whose text or value
        matches `button` and a field named `field`, when given."""
        for f in self.forms:
            if action is not None:
                if isinstance(action, str) and not action.startswith("^"):
                    if f.action.split("?")[0] != action:
                        continue
                elif not re.search(action, f.action):
                    continue
            if button is not None and not any(
                    re.search(button, " ".join(str(x) for x in b if x), re.I)
                    for b in f.buttons):
                continue
            if field is not None and field not in f.types:
                continue
            return f
        raise AssertionError("no form (action %r, button %r, field %r) on %s "
                             "%s (HTTP %d); forms: %r\n%s" % (
                                 action, button, field, self.method,
                                 self.url, self.status, self.forms,
                                 visible_text(self.text)[:1500]))

    def __repr__(self):
        return "<Resp %s %s %d>" % (self.method, self.url, self.status)


def visible_text(page):
    """The text of an HTML page without its tags (for messages)."""
    t = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    t = re.sub(r"<[^>]+>", " ", t)
    import html as _h
    return re.sub(r"\s+", " ", _h.unescape(t)).strip()


def multipart(fields, files):
    """Returns (content type, body) of a multipart/form-data body: fields
    [(name, value)], files [(field, filename, content type, bytes)]."""
    boundary = "----acmewebtest" + uuid.uuid4().hex
    out = []
    for name, value in fields:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\""
                    "\r\n\r\n" % (boundary, name)).encode() +
                   str(value).encode() + b"\r\n")
    for field, filename, ctype, data in files:
        # as browsers do (HTML's multipart/form-data encoding)
        filename = filename.replace('"', "%22").replace("\r", "%0D") \
            .replace("\n", "%0A")
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; "
                    "filename=\"%s\"\r\nContent-Type: %s\r\n\r\n" % (
                        boundary, field, filename, ctype)).encode() +
                   data + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return "multipart/form-data; boundary=" + boundary, b"".join(out)


class WebClient:
    """A browser-like client of one site (base: https://127.0.0.1:PORT).

    cafile: the CA to trust; cert/key: a TLS client certificate;
    source: the loopback address to connect from (127.0.0.x: another
    client address for the rate limits)."""

    def __init__(self, base, cafile, cert=None, key=None, source=None,
                 lang="en"):
        self.base = base.rstrip("/")
        u = urllib.parse.urlsplit(self.base)
        self.host = u.hostname
        self.port = u.port or 443
        self.ctx = ssl.create_default_context(cafile=cafile)
        if cert is not None:
            self.ctx.load_cert_chain(cert, key)
        self.source = source
        self.lang = lang
        self.jar = {}           # name -> value (what the browser sends)
        self.seen = []          # every Cookie set, in order

    def cookie(self, name):
        return self.jar.get(name)

    def set_cookie(self, name, value):
        """Puts a cookie in the jar as if a site had set it."""
        self.jar[name] = value

    def _store(self, resp):
        for c in resp.cookies:
            self.seen.append(c)
            if c.cleared():
                self.jar.pop(c.name, None)
            else:
                self.jar[c.name] = c.value

    def request(self, method, path, body=None, ctype=None, headers=None,
                timeout=60):
        """One request, no redirect followed; returns a Resp."""
        if path.startswith("https://"):
            u = urllib.parse.urlsplit(path)
            assert (u.hostname, u.port) == (self.host, self.port), \
                "%s is not on %s" % (path, self.base)
            path = u.path + ("?" + u.query if u.query else "")
        h = {"Accept-Language": self.lang, "User-Agent": "acme-web-tests"}
        if self.jar:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.jar.items())
        if ctype is not None:
            h["Content-Type"] = ctype
        if headers:
            h.update(headers)
        kw = {"context": self.ctx, "timeout": timeout}
        if self.source is not None:
            kw["source_address"] = (self.source, 0)
        conn = http.client.HTTPSConnection(self.host, self.port, **kw)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            resp = Resp(method, self.base + path, r.status,
                        [(k.lower(), v) for k, v in r.getheaders()], data)
        finally:
            conn.close()
        self._store(resp)
        return resp

    def get(self, path, follow=True, **kw):
        r = self.request("GET", path, **kw)
        return self.follow(r) if follow else r

    def follow(self, r, limit=5):
        """Follows 301/302/303 redirects with GET."""
        while r.status in (301, 302, 303) and limit > 0:
            loc = r.location
            assert loc, "redirect without Location"
            if not loc.startswith("https://"):
                loc = urllib.parse.urljoin(r.url, loc)
            r = self.request("GET", loc)
            limit -= 1
        return r

    def post(self, path, fields, files=None, follow=True, **kw):
        """POST fields [(name, value)] or {name: value} (urlencoded, or
        multipart when files are given)."""
        if isinstance(fields, dict):
            fields = list(fields.items())
        if files:
            ctype, body = multipart(fields, files)
        else:
            ctype = "application/x-www-form-urlencoded"
            body = urllib.parse.urlencode(fields).encode()
        r = self.request("POST", path, body=body, ctype=ctype, **kw)
        return self.follow(r) if follow else r

    def submit(self, form, values=None, files=None, button=None,
               follow=True, drop=()):
        """Submits a Form with its own fields, `values` ({name: value or
        [values]}) replacing or adding to them, `drop` names left out,
        files ({field: (filename, content type, bytes)}) and the button
        whose text or value matches `button` (its name=value sent)."""
        values = dict(values or {})
        fields = []
        done = set()
        for k, v in form.fields:
            if k in drop:
                continue
            if k in values:
                if k in done:
                    continue
                done.add(k)
                vs = values[k]
                for x in (vs if isinstance(vs, (list, tuple)) else [vs]):
                    fields.append((k, x))
            else:
                fields.append((k, v))
        for k, vs in values.items():
            if k in done:
                continue
            for x in (vs if isinstance(vs, (list, tuple)) else [vs]):
                fields.append((k, x))
        if button is not None:
            for b in form.buttons:
                if re.search(button, " ".join(str(x) for x in b if x), re.I):
                    if b[0]:
                        fields.append((b[0], b[1]))
                    break
            else:
                raise AssertionError("no button %r in %r (buttons %r)" % (
                    button, form, form.buttons))
        action = form.action or "/"
        if files or form.enctype.startswith("multipart/"):
            upl = [(f, n, t, d) for f, (n, t, d) in (files or {}).items()]
            ctype, body = multipart(fields, upl)
            r = self.request(form.method, action, body=body, ctype=ctype)
        else:
            body = urllib.parse.urlencode(fields).encode()
            if form.method == "GET":
                r = self.request("GET", action.split("?")[0] + "?" +
                                 body.decode())
            else:
                r = self.request("POST", action, body=body,
                                 ctype="application/x-www-form-urlencoded")
        return self.follow(r) if follow else r


def tls_handshake_refused(host, port, cafile, cert=None, key=None):
    """Tries a TLS connection and one GET /office/; returns None if the
    handshake failed (the reason otherwise ends up in the result), else
    the HTTP status."""
    ctx = ssl.create_default_context(cafile=cafile)
    if cert is not None:
        ctx.load_cert_chain(cert, key)
    try:
        with socket.create_connection((host, port), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname=host) as t:
                t.sendall(b"GET /office/ HTTP/1.1\r\nHost: %s\r\n"
                          b"Connection: close\r\n\r\n" % host.encode())
                data = b""
                while True:
                    chunk = t.recv(65536)
                    if not chunk:
                        break
                    data += chunk
    except (ssl.SSLError, ConnectionError, OSError) as e:
        return None, "%s: %s" % (type(e).__name__, e)
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return (int(m.group(1)) if m else -1), data[:2000].decode(
        "utf-8", "replace")


def tiny_pdf(text="acme-web test document"):
    """A small but real PDF (one page with a line of text), with a correct
    cross-reference table."""
    stream = ("BT /F1 18 Tf 72 720 Td (%s) Tj ET" % text).encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream +
        b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for i, o in enumerate(objs):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += (b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objs) + 1, xref))
    return out


def tiny_png(width=64, height=32):
    """A small but real PNG (an RGB gradient)."""
    import struct
    import zlib

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b""
    for y in range(height):
        raw += b"\x00" + b"".join(bytes((x * 4 % 256, y * 8 % 256, 128))
                                  for x in range(width))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0,
                                       0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def fake_exe():
    """The start of a Windows executable (MZ header, PE signature)."""
    pe = bytearray(512)
    pe[0:2] = b"MZ"
    pe[0x3c:0x40] = (0x80).to_bytes(4, "little")
    pe[0x80:0x84] = b"PE\x00\x00"
    pe[0x4e:0x4e + 39] = b"This program cannot be run in DOS mode."
    return bytes(pe)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def ensure_operator(stack):
    """The back office's operator of the stack's operator certificate
    (stack.operator_cert), created once per stack with acmectl operator
    create: {"name", "email", "password"}."""
    op = getattr(stack, "_web_operator", None)
    if op is not None:
        return op
    op = {"name": "op.one", "email": "op.one@ca.test",
          "password": "Operator-one-" + uuid.uuid4().hex[:12]}
    pwfile = os.path.join(stack.tls_dir, "operator.password")
    with open(pwfile, "w") as f:
        f.write(op["password"] + "\n")
    os.chmod(pwfile, 0o600)
    stack.acmectl("operator", "create", op["name"], "--email", op["email"],
                  "--cert", stack.operator_cert, "--password-file", pwfile)
    stack._web_operator = op
    return op


class Customer:
    """A customer of the portal with a session: signed up, address
    confirmed through the e-mail's link, signed in (new_customer)."""

    def __init__(self, client, email, password, org):
        self.c = client
        self.email = email
        self.password = password
        self.org = org


def mail_link(sink, rcpt, pattern, timeout=60):
    """The first URL matching pattern in a message the sink got for rcpt
    (waits for it)."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        for m in sink.messages(rcpt):
            hit = re.search(pattern, m["body"])
            if hit:
                return hit.group(0)
        if time.monotonic() > deadline:
            raise AssertionError("no message to %s with a link %s in %ds" %
                                 (rcpt, pattern, timeout))
        time.sleep(0.3)


def signup(c, email, password, org, country="FR", state="", locality="",
           language="en"):
    """Fills and sends the sign-up form; returns the response."""
    f = c.get("/signup").form("/signup")
    return c.submit(f, {"organization": org, "country": country,
                        "state": state, "locality": locality,
                        "email": email, "password": password,
                        "password2": password, "language": language})


def login(c, email, password):
    """Signs in; returns the response (followed)."""
    f = c.get("/login").form("/login")
    return c.submit(f, {"email": email, "password": password})


def new_customer(stack, sink, tag, org=None, source=None, **fields):
    """A fresh customer (own organization), signed in. fields go to the
    sign-up form (state, locality...)."""
    c = WebClient(stack.web_url, stack.tls_ca, source=source)
    email = "%s-%s@customer.test" % (tag, uuid.uuid4().hex[:8])
    password = "Pass-" + uuid.uuid4().hex
    org = org or "Org %s %s" % (tag, uuid.uuid4().hex[:8])
    r = signup(c, email, password, org, **fields)
    assert r.status == 200, "sign-up of %s: HTTP %d\n%s" % (
        email, r.status, visible_text(r.text)[:2000])
    link = mail_link(sink, email, r"%s/confirm/\S+" % re.escape(
        stack.web_url))
    r = c.get(link)
    assert r.status == 200, "confirmation of %s: HTTP %d\n%s" % (
        email, r.status, visible_text(r.text)[:2000])
    r = login(c, email, password)
    assert r.status == 200 and r.url.endswith("/dashboard"), \
        "sign-in of %s: HTTP %d %s\n%s" % (email, r.status, r.url,
                                           visible_text(r.text)[:2000])
    return Customer(c, email, password, org)


def operator_client(stack, cert=None, key=None, source=None):
    """A client of the office presenting the operator's certificate."""
    return WebClient(stack.office_url, stack.tls_ca,
                     cert=cert or stack.operator_cert,
                     key=key or stack.operator_key, source=source)


def operator_login(c, login_name, password):
    f = c.get("/office/login").form("/office/login")
    return c.submit(f, {"login": login_name, "password": password})

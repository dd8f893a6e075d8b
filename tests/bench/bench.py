#!/usr/bin/python3
"""`make bench`: the ACME service side by side with Debian's Pebble.

Starts the whole stack on loopback (tests/stack.py, with PostgreSQL durable:
fsync and synchronous_commit on, as in production), then Pebble configured to
require EAB and to validate http-01 for real against the same responder (the
load generator's, on the stack's http01 port) and to resolve names through the
stack's BIND. The same load generator (tests/bench/acmebench.c) runs complete
ACME flows against each at concurrency 1, 4, 16 and 64 for a fixed duration,
and the server processes' CPU time is read from /proc before and after each
run. Then wrk measures newNonce through the same nginx for acme-fcgi, for a
do-nothing FastCGI responder (tests/bench/nullfcgi.c, the ceiling) and for
Pebble (directly, and proxied by the same nginx).

    /usr/bin/python3 tests/bench/bench.py --build build [--seconds 15]
        [--levels 1,4,16,64] [--children 4] [--workers 4]
        [--worker-mode pool|separate] [--json FILE]
        [--servers acme,pebble] [--no-wrk] [--pg-top FILE] [--keep]
        [--ca-key-type rsa2048] [--account-key rsa|ec] [--dns-delay MS]

Everything runs in a temporary state directory that is removed at the end
(kept with --keep); every process it started is stopped, whatever happens.
"""

import argparse
import base64
import heapq
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
REPO = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)

import stack as stackmod  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
SERVER_PROCS = ("nginx", "acme-fcgi", "postgres", "acme-worker")


# ------------------------------------------------------------------ /proc

def tree_cpu(root):
    """CPU seconds (user + system, with reaped children) of root and every
    process below it (PostgreSQL's backends start sessions of their own:
    the process tree, not the session, says what belongs to a server)."""
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        fields = s[s.rindex(")") + 2:].split()
        # fields[0] is field 3 (state): ppid is field 4, times 14-17
        procs[int(d)] = (int(fields[1]),
                         sum(int(x) for x in fields[11:15]))
    total = 0
    todo = [root]
    seen = set()
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in procs:
            continue
        seen.add(pid)
        total += procs[pid][1]
        todo += [p for p, (pp, _) in procs.items() if pp == pid]
    return total / TICK


class DelayDNS:
    """A UDP name server in front of BIND that answers each query ms
    milliseconds after BIND did: a resolver one round trip away, as on a
    real network, where BIND on loopback answers in tens of
    microseconds. Both servers resolve through it."""

    def __init__(self, ms):
        self.delay = ms / 1000.0
        self.upstream = None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.thread = None

    def start(self, upstream):
        self.upstream = upstream
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ, None)
        due = []    # (time, seq, answer, client)
        seq = 0
        while not self.stopping:
            wait = 0.2 if not due else max(0.0, due[0][0] - time.monotonic())
            for key, _ in sel.select(wait):
                if key.data is None:
                    data, client = self.sock.recvfrom(4096)
                    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    u.connect(("127.0.0.1", self.upstream))
                    u.send(data)
                    sel.register(u, selectors.EVENT_READ, client)
                else:
                    try:
                        answer = key.fileobj.recv(65535)
                        seq += 1
                        heapq.heappush(due, (time.monotonic() + self.delay,
                                             seq, answer, key.data))
                    except OSError:
                        pass
                    sel.unregister(key.fileobj)
                    key.fileobj.close()
            now = time.monotonic()
            while due and due[0][0] <= now:
                _, _, answer, client = heapq.heappop(due)
                self.sock.sendto(answer, client)

    def stop(self):
        self.stopping = True
        if self.thread is not None:
            self.thread.join(5)
        self.sock.close()


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.state = tempfile.mkdtemp(prefix="acme-bench-",
                                      dir=os.environ.get("TMPDIR", "/tmp"))
        os.chmod(self.state, 0o711)
        self.st = None
        self.extra = {}     # name -> Popen of processes started here
        self.results = {"acme": [], "pebble": [], "wrk": {}}
        self.dns = DelayDNS(args.dns_delay) if args.dns_delay > 0 else None

    # ---------------------------------------------------------- the stack

    def start_stack(self):
        bench = self

        class DurableStack(stackmod.Stack):
            """The test stack with PostgreSQL's durability on, and more
            workers when asked."""

            def spawn(self, name, argv, env=None, user=None):
                if name == "postgres":
                    argv = [a for a in argv]
                    for off in ("fsync=off", "synchronous_commit=off",
                                "full_page_writes=off"):
                        i = argv.index(off)
                        argv[i] = off.replace("=off", "=on")
                    argv += ["-c", "shared_buffers=256MB"]
                    if bench.args.pg_top:
                        # the profile: every statement, those inside the
                        # SQL functions too, with its planning time (not
                        # otherwise: it costs CPU at every statement)
                        argv += ["-c", "shared_preload_libraries="
                                 "pg_stat_statements",
                                 "-c", "pg_stat_statements.track_planning=on",
                                 "-c", "pg_stat_statements.track=all"]
                return super().spawn(name, argv, env, user)

            def write_conf(self):
                super().write_conf()
                if bench.dns is not None:
                    with open(self.conf) as f:
                        text = f.read()
                    line = "dns_servers = 127.0.0.1:%d" % self.ports["dns"]
                    assert line in text, "no %r in acme.conf" % line
                    with open(self.conf, "w") as f:
                        f.write(text.replace(line, "dns_servers = "
                                             "127.0.0.1:%d" % bench.dns.port))
                    bench.dns.start(self.ports["dns"])
                if bench.args.worker_mode == "pool":
                    with open(self.conf, "a") as f:
                        f.write("worker_processes = %d\n" %
                                bench.args.workers)

        self.st = DurableStack(self.build, os.path.join(self.state, "stack"),
                               children=self.args.children,
                               ca_key_type=self.args.ca_key_type or None,
                               log_level=os.environ.get("BENCH_LOG_LEVEL",
                                                        "info"))
        os.makedirs(self.st.state, exist_ok=True)
        os.chmod(self.st.state, 0o711)
        self.st.start()
        for i in range(1, self.args.workers
                       if self.args.worker_mode == "separate" else 1):
            name = "acme-worker-%d" % i
            self.extra[name] = subprocess.Popen(
                [os.path.join(self.build, "acme-worker"), "-c",
                 self.st.conf], stdin=subprocess.DEVNULL,
                stdout=open(self.st.log(name), "ab"),
                stderr=subprocess.STDOUT, start_new_session=True)
        if self.args.pg_top:
            self.st.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    def mint(self, n):
        """n EAB credentials of one organization with enough credit."""
        creds = []
        for i in range(n):
            out = self.st.acmectl("eab", "create", "--org", "Bench",
                                  "--domain", self.st.zone, "--credit",
                                  "100000000", "--json")
            d = json.loads(out)
            creds.append((d["kid"], d["hmac_key"]))
        return creds

    def acme_sids(self):
        sids = {n: self.st.procs[n].pid for n in SERVER_PROCS}
        return sids

    def worker_sids(self):
        return [p.pid for p in self.extra.values()
                if p.args[0].endswith("acme-worker")]

    def acme_cpu(self):
        cpu = {n: tree_cpu(pid) for n, pid in self.acme_sids().items()}
        for pid in self.worker_sids():
            cpu["acme-worker"] += tree_cpu(pid)
        return cpu

    # ------------------------------------------------------------ pebble

    def start_pebble(self, n):
        d = os.path.join(self.state, "pebble")
        os.makedirs(d, exist_ok=True)
        self.pebble_port = stackmod.free_port()
        mgmt = stackmod.free_port()
        tls = stackmod.free_port()
        keys = {}
        for i in range(n):
            keys["bench-kid-%d" % i] = base64.urlsafe_b64encode(
                os.urandom(32)).decode().rstrip("=")
        conf = {"pebble": {
            "listenAddress": "127.0.0.1:%d" % self.pebble_port,
            "managementListenAddress": "127.0.0.1:%d" % mgmt,
            "certificate": os.path.join(self.st.tls_dir, "server.pem"),
            "privateKey": os.path.join(self.st.tls_dir, "server.key"),
            "httpPort": self.st.http01_port,
            "tlsPort": tls,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": True,
            "externalAccountMACKeys": keys,
        }}
        path = os.path.join(d, "pebble-config.json")
        with open(path, "w") as f:
            json.dump(conf, f, indent=1)
        env = dict(os.environ)
        env.update({"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0",
                    "PEBBLE_AUTHZREUSE": "0"})
        env.pop("PEBBLE_VA_ALWAYS_VALID", None)
        log = open(os.path.join(d, "pebble.log"), "ab")
        self.extra["pebble"] = subprocess.Popen(
            ["/usr/bin/pebble", "-config", path, "-dnsserver",
             "127.0.0.1:%d" % (self.dns.port if self.dns is not None
                               else self.st.dns_port)],
            stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=d,
            start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                stackmod.Stack.tcp_open(self.pebble_port)
                break
            except OSError:
                if self.extra["pebble"].poll() is not None or \
                        time.monotonic() > deadline:
                    raise stackmod.StackError(
                        "pebble did not start:\n" + stackmod.tail(
                            os.path.join(d, "pebble.log")))
                time.sleep(0.2)
        return list(keys.items())

    def stop_extra(self, name):
        p = self.extra.pop(name, None)
        if p is None:
            return
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass

    # -------------------------------------------------------- load runs

    def loadgen(self, directory, creds, label):
        path = os.path.join(self.state, "accounts-%s.txt" % label)
        with open(path, "w") as f:
            for kid, hmac in creds:
                f.write("%s %s\n" % (kid, hmac))
        p = subprocess.Popen(
            [os.path.join(self.build, "bench", "acmebench"), "-d", directory,
             "-C", self.st.tls_ca, "-k", path, "-z", self.st.zone,
             "-p", str(self.st.http01_port), "-l", label,
             "-a", self.args.account_key,
             "-T", str(self.args.request_timeout * 1000),
             "-F", str(self.args.flow_timeout * 1000)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            bufsize=1)
        line = p.stdout.readline()
        if not line.startswith("ready"):
            p.kill()
            raise stackmod.StackError("acmebench did not start (%r)" % line)
        return p

    def run_level(self, gen, n, secs, cpu_fn):
        before = cpu_fn()
        client = tree_cpu(gen.pid)
        gen.stdin.write("run %d %d\n" % (n, secs))
        gen.stdin.flush()
        res = json.loads(gen.stdout.readline())
        after = cpu_fn()
        res["client_cpu"] = tree_cpu(gen.pid) - client
        res["cpu"] = {k: after[k] - before[k] for k in after}
        return res

    def runs(self, name, directory, creds, cpu_fn, levels=None,
             between=None):
        """The levels, each after between() (not counted) if given."""
        gen = self.loadgen(directory, creds, name)
        try:
            # warm-up, not reported: caches, connections, plans
            self.run_level(gen, min(4, len(creds)), 3, cpu_fn)
            for n in levels or self.levels:
                if between is not None:
                    between()
                r = self.run_level(gen, n, self.args.seconds, cpu_fn)
                self.results[name].append(r)
                print(fmt_run(name, r), flush=True)
        finally:
            gen.stdin.write("quit\n")
            gen.stdin.flush()
            gen.wait(30)

    def pebble_runs(self, n):
        """Pebble afresh for each level: once it hangs (its in-memory
        store can deadlock under concurrency), it stays hung, and the next
        levels would only measure that."""
        for level in self.levels:
            keys = self.start_pebble(n)
            psid = self.extra["pebble"].pid
            try:
                self.runs("pebble",
                          "https://127.0.0.1:%d/dir" % self.pebble_port,
                          keys[:max(level, 4)],
                          lambda: {"pebble": tree_cpu(psid)}, [level])
            finally:
                self.stop_extra("pebble")

    # ---------------------------------------------------------------- wrk

    def nginx_extra(self, null_port):
        """Adds, to the stack's nginx, /bench/null-nonce (the do-nothing
        FastCGI responder) and /bench/pebble/ (Pebble, proxied with
        upstream keep-alive), then reloads it."""
        nconf = os.path.join(self.st.nginx_dir, "nginx.conf")
        with open(nconf) as f:
            conf = f.read()
        if "bench_null" not in conf:
            ups = ("\tupstream bench_null { server 127.0.0.1:%d; }\n"
                   "\tupstream bench_pebble { server 127.0.0.1:%d; "
                   "keepalive 64; }\n" % (null_port, self.pebble_port))
            loc = """
		location = /bench/null-nonce {
			fastcgi_pass bench_null;
			fastcgi_param REQUEST_METHOD $request_method;
			fastcgi_param REQUEST_URI $request_uri;
			fastcgi_param CONTENT_TYPE $content_type;
			fastcgi_param CONTENT_LENGTH $content_length;
			fastcgi_param REQUEST_ID $request_id;
			fastcgi_param HTTP_ACCEPT_LANGUAGE $http_accept_language;
		}
		location /bench/pebble/ {
			proxy_pass https://bench_pebble/;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_ssl_verify off;
			proxy_ssl_session_reuse on;
		}
"""
            conf = conf.replace("\tupstream acme_fcgi {", ups +
                                "\tupstream acme_fcgi {", 1)
            conf = conf.replace("\t\tlocation / {", loc + "\t\tlocation / {",
                                1)
            with open(nconf, "w") as f:
                f.write(conf)
        os.kill(self.st.procs["nginx"].pid, signal.SIGHUP)
        time.sleep(1.5)

    def wrk(self, url, secs, procs):
        """wrk on url for secs seconds; with the CPU time per request of
        the server processes procs (pids of process trees) meanwhile."""
        before = sum(tree_cpu(pid) for pid in procs)
        out = subprocess.run(
            ["wrk", "-t", "2", "-c", "32", "-d", "%ds" % secs, "--latency",
             url], capture_output=True, text=True, timeout=secs + 60).stdout
        cpu = sum(tree_cpu(pid) for pid in procs) - before
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        n = re.search(r"(\d+) requests in", out)
        codes = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        errs = re.search(r"Socket errors: (.*)", out)
        return {"rps": float(m.group(1)) if m else 0.0,
                "requests": int(n.group(1)) if n else 0,
                "cpu_us": 1e6 * cpu / int(n.group(1)) if n and
                int(n.group(1)) else 0.0,
                "non2xx": int(codes.group(1)) if codes else 0,
                "socket_errors": errs.group(1) if errs else "",
                "raw": out}

    def wrk_all(self):
        null_port = stackmod.free_port()
        self.extra["nullfcgi"] = subprocess.Popen(
            [os.path.join(self.build, "bench", "nullfcgi"), "-s",
             "127.0.0.1:%d" % null_port, "-n", str(self.args.children)],
            stdin=subprocess.DEVNULL, start_new_session=True)
        time.sleep(0.3)
        self.nginx_extra(null_port)
        base = self.st.base_url
        pb = "https://127.0.0.1:%d" % self.pebble_port
        secs = self.args.wrk_seconds
        nginx = self.st.procs["nginx"].pid
        pebble = self.extra["pebble"].pid
        targets = (
            ("null FastCGI via nginx", base + "/bench/null-nonce",
             (nginx, self.extra["nullfcgi"].pid)),
            ("acme-fcgi via nginx", base + "/acme/new-nonce",
             (nginx, self.st.procs["acme-fcgi"].pid)),
            ("pebble via nginx", base + "/bench/pebble/nonce-plz",
             (nginx, pebble)),
            ("pebble direct", pb + "/nonce-plz", (pebble,)),
        )
        for name, url, procs in targets:
            r = self.wrk(url, secs, procs)
            self.results["wrk"][name] = r
            print("wrk %-24s %10.0f req/s  server CPU %5.1f us/req%s" % (
                name, r["rps"], r["cpu_us"], "  (non-2xx: %d)" % r["non2xx"]
                if r["non2xx"] else ""), flush=True)

    # -------------------------------------------------------------- main

    def pg_top(self, path):
        """The statements that took the most time, for the profile."""
        out = self.st.psql(
            "SELECT calls, round(total_exec_time::numeric, 1), "
            "round((total_exec_time / nullif(calls, 0))::numeric, 3), "
            "round((total_plan_time / nullif(calls, 0))::numeric, 3), "
            "left(regexp_replace(query, '\\s+', ' ', 'g'), 110) "
            "FROM pg_stat_statements ORDER BY total_exec_time + "
            "total_plan_time DESC "
            "LIMIT 200")
        with open(path, "w") as f:
            f.write(out)

    def main(self):
        self.levels = [int(x) for x in self.args.levels.split(",")]
        n = max(self.levels + [4])
        print("machine: %s, %d cores; %ds per level; acme-fcgi children "
              "%d, workers %d (%s), CA keys %s, account keys %s" % (
                  cpu_model(), os.cpu_count(), self.args.seconds,
                  self.args.children, self.args.workers,
                  self.args.worker_mode,
                  self.args.ca_key_type, self.args.account_key), flush=True)
        if self.dns is not None:
            print("DNS: every answer %d ms after BIND's (a resolver one "
                  "round trip away)" % self.args.dns_delay, flush=True)
        self.start_stack()
        servers = self.args.servers.split(",")
        if "acme" in servers:
            creds = self.mint(n)
            if self.args.pg_top:
                self.st.psql("SELECT pg_stat_statements_reset()")
            # each level starts from a vacuumed database, as on a server
            # whose autovacuum keeps up: otherwise a level inherits the
            # dead rows of the levels before it (thousands of orders each,
            # every one updated four times), which autovacuum, waking
            # once a minute, has not reached yet
            self.runs("acme", self.st.directory_url, creds, self.acme_cpu,
                      between=lambda: self.st.psql("VACUUM ANALYZE"))
            if self.args.pg_top:
                self.pg_top(self.args.pg_top)
        if "pebble" in servers:
            self.pebble_runs(n)
        if not self.args.no_wrk:
            self.start_pebble(n)
            self.wrk_all()
        report(self.results, self.levels)
        if self.args.json:
            with open(self.args.json, "w") as f:
                json.dump(self.results, f, indent=1)

    def stop(self):
        for name in list(self.extra):
            self.stop_extra(name)
        if self.st is not None:
            self.st.stop()
        if self.dns is not None:
            self.dns.stop()
        if self.args.keep:
            print("state kept in %s" % self.state)
        else:
            shutil.rmtree(self.state, ignore_errors=True)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def per_issue(r):
    return max(r["issued"], 1)


def fmt_run(name, r):
    cpu = sum(r["cpu"].values())
    return ("%-6s c=%-3d %7.1f iss/s  p50 %7.1f ms  p90 %7.1f  p99 %7.1f  "
            "%5.1f req/iss  cpu %6.1f ms/iss (client %.1f)  errors %d  "
            "stalls %d%s" % (
                name, r["concurrency"], r["issued"] / r["seconds"],
                r["p50_ms"], r["p90_ms"], r["p99_ms"],
                r["requests"] / per_issue(r), 1000 * cpu / per_issue(r),
                1000 * r["client_cpu"] / per_issue(r),
                r["errors"], r["stalls"],
                ("  [%s]" % "; ".join(r["samples"][:2])) if r["samples"]
                else ""))


def report(res, levels):
    """Prints the tables and the targets of the issue."""
    print()
    print("Complete ACME flows (newOrder .. certificate), per level:")
    hdr = ("%-7s %4s %7s %7s %7s %7s %7s | %8s %8s %8s %8s %8s | %7s | %6s"
           " %6s" % ("server", "conc", "iss/s", "p50 ms", "p90 ms", "p99 ms",
                     "req/iss", "nginx", "fcgi", "postgres", "worker",
                     "total", "client", "errors", "stalls"))
    print("%51s| server CPU ms per issuance                   | client  |"
          % "")
    print(hdr)
    for name in ("acme", "pebble"):
        for r in res[name]:
            n = per_issue(r)
            c = r["cpu"]

            def ms(k):
                return "%8.2f" % (1000 * c[k] / n) if k in c else "%8s" % "-"
            print("%-7s %4d %7.1f %7.1f %7.1f %7.1f %7.1f | %s %s %s %s "
                  "%8.2f | %7.2f | %6d %6d" % (
                      name, r["concurrency"], r["issued"] / r["seconds"],
                      r["p50_ms"], r["p90_ms"], r["p99_ms"],
                      r["requests"] / n, ms("nginx"), ms("acme-fcgi"),
                      ms("postgres"), ms("acme-worker"),
                      1000 * sum(c.values()) / n,
                      1000 * r.get("client_cpu", 0) / n, r["errors"],
                      r["stalls"]))
    print("(pebble's CPU is the one process's; acme's total adds nginx, "
          "acme-fcgi, PostgreSQL and acme-worker)")
    acme = {r["concurrency"]: r for r in res["acme"]}
    peb = {r["concurrency"]: r for r in res["pebble"]}

    def rate(r):
        return r["issued"] / r["seconds"]

    def cpu(r):
        return sum(r["cpu"].values()) / per_issue(r)

    def clean(r):
        return r["errors"] == 0 and r["stalls"] == 0 and r["issued"] > 0
    print()
    print("Targets:")
    stable = [rate(r) for r in res["pebble"] if clean(r)]
    best = max(stable) if stable else 0.0
    lines = []
    if 16 in acme and acme[16]["issued"] and peb.get(16, {}).get("issued"):
        ratio = cpu(acme[16]) / cpu(peb[16])
        lines.append(("server CPU per issuance at c=16 (acme/pebble)",
                      "%.2fx (%.1f vs %.1f ms)" % (ratio, 1000 * cpu(acme[16]),
                                                   1000 * cpu(peb[16])),
                      ratio <= 0.5, "<= 0.5x"))
    if 16 in acme and best > 0:
        ratio = rate(acme[16]) / best
        lines.append(("issuances/s at c=16 vs pebble's best stable",
                      "%.2fx (%.1f vs %.1f/s)" % (ratio, rate(acme[16]), best),
                      ratio >= 1.5 and clean(acme[16]), ">= 1.5x"))
    if 64 in acme:
        lines.append(("no stall or error at c=64",
                      "%d errors, %d stalls" % (acme[64]["errors"],
                                                acme[64]["stalls"]),
                      clean(acme[64]), "0, 0"))
    if 1 in acme and 1 in peb and peb[1]["issued"]:
        lines.append(("p50 of one flow at c=1 (acme vs pebble)",
                      "%.1f vs %.1f ms" % (acme[1]["p50_ms"], peb[1]["p50_ms"]),
                      acme[1]["p50_ms"] <= peb[1]["p50_ms"], "<= pebble"))
    w = res.get("wrk", {})
    if "acme-fcgi via nginx" in w and w.get("null FastCGI via nginx",
                                             {}).get("rps"):
        ratio = w["acme-fcgi via nginx"]["rps"] / \
            w["null FastCGI via nginx"]["rps"]
        lines.append(("newNonce via nginx vs do-nothing FastCGI",
                      "%.2fx (%.0f vs %.0f req/s)" % (
                          ratio, w["acme-fcgi via nginx"]["rps"],
                          w["null FastCGI via nginx"]["rps"]),
                      ratio >= 0.9, ">= 0.9x"))
    for what, got, ok, want in lines:
        print("  %-46s %-32s %-8s %s" % (what, got, want,
                                         "ok" if ok else "MISSED"))
    null = w.get("null FastCGI via nginx", {})
    if null.get("cpu_us") and 16 in acme and acme[16]["issued"]:
        # what the architecture costs before any work of ours: nginx's
        # TLS and HTTP, and a FastCGI exchange, for each request
        r = acme[16]
        reqs = r["requests"] / per_issue(r)
        print("  floor: a request to the do-nothing FastCGI responder "
              "through nginx costs %.0f us of server CPU; at %.1f requests "
              "per issuance (c=16) that is %.2f ms per issuance before "
              "any work of acme-fcgi, PostgreSQL or acme-worker%s" % (
                  null["cpu_us"], reqs, reqs * null["cpu_us"] / 1000,
                  " (0.5x Pebble's whole issuance: %.2f ms)" %
                  (500 * cpu(peb[16])) if peb.get(16, {}).get("issued")
                  else ""))
    if 1 in acme:
        r = acme[1]
        print("  at c=1: validation (challenge POST -> authorization valid) "
              "p50 %.1f ms, issuance (finalize -> order valid) p50 %.1f ms"
              % (r.get("validate_p50_ms", 0), r.get("issue_p50_ms", 0)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--seconds", type=int,
                    default=int(os.environ.get("BENCH_SECONDS", "15")))
    ap.add_argument("--levels", default=os.environ.get("BENCH_LEVELS",
                                                        "1,4,16,64"))
    ap.add_argument("--children", type=int,
                    default=int(os.environ.get("BENCH_CHILDREN", "4")))
    ap.add_argument("--workers", type=int,
                    default=int(os.environ.get("BENCH_WORKERS", "4")))
    ap.add_argument("--worker-mode", choices=("pool", "separate"),
                    default=os.environ.get("BENCH_WORKER_MODE", "pool"),
                    help="--workers processes as one acme-worker's pool "
                    "(worker_processes) or as as many acme-worker "
                    "programs, each listening")
    ap.add_argument("--ca-key-type",
                    default=os.environ.get("BENCH_CA_KEY_TYPE", "rsa2048"),
                    help="the CA's keys (acmectl ca init --key-type; "
                    "empty: acmectl's default): Pebble 2.4 signs with "
                    "RSA-2048 too")
    ap.add_argument("--account-key", choices=("rsa", "ec"),
                    default=os.environ.get("BENCH_ACCOUNT_KEY", "rsa"),
                    help="the load generator's account keys: RSA 2048 "
                    "(RS256, the reference measurements' choice) or P-256 "
                    "(ES256)")
    ap.add_argument("--wrk-seconds", type=int, default=10)
    ap.add_argument("--request-timeout", type=int, default=10,
                    help="seconds before one request is a stall")
    ap.add_argument("--flow-timeout", type=int, default=60,
                    help="seconds before one flow is a stall")
    ap.add_argument("--no-wrk", action="store_true")
    ap.add_argument("--dns-delay", type=int,
                    default=int(os.environ.get("BENCH_DNS_DELAY", "0")),
                    help="milliseconds added to every DNS answer, for both "
                    "servers (0: BIND on loopback, as the targets assume)")
    ap.add_argument("--servers", default="acme,pebble",
                    help="which servers to run the flows against")
    ap.add_argument("--json", help="write the raw results there")
    ap.add_argument("--pg-top", help="copy pg_stat_statements' top there")
    ap.add_argument("--keep", action="store_true",
                    help="keep the state directory (logs)")
    args = ap.parse_args()
    b = Bench(args)

    def interrupt(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        b.main()
    except stackmod.StackError as e:
        print("bench: %s" % e, file=sys.stderr)
        return 1
    finally:
        b.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

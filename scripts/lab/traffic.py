#!/usr/bin/env python3
"""The lab's Matrix traffic (docs/lab.md, "Traffic and measurement scripts").

Registers users through Synapse's shared-secret admin API, logs them in, creates rooms,
joins the users, sends messages at a bounded rate while every user keeps a /sync loop
going, and verifies that every event the server acknowledged reaches every member of its
room, by /sync (gaps of a `limited` timeline filled by /messages, as a client does) and
by /messages alone. Also
one media upload and authenticated download, display names, a typing notification, read
receipts, a user directory search and two federation reads, so that every worker type
the routing serves gets its request type. Uses matrix-nio (the venv's 0.26.0).

Exit status: 0 all acknowledged events arrived and nothing failed; 1 an acknowledged
event is missing; 2 a request failed (nothing missing); 3 the deadline passed.

Every request has a timeout (--request-timeout) and the whole run a deadline
(--deadline). Rate limits (429) are honoured: nio sleeps retry_after_ms and retries.

    traffic.py --base-url https://lab.example.org --resolve lab.example.org:443:10.0.2.100 \\
        --cacert ca.pem --shared-secret-file secret --users 10 --rooms 2 --messages 100 \\
        --out summary.json
"""

import argparse
import asyncio
import hashlib
import hmac
import ipaddress
import json
import os
import socket
import ssl
import sys
import time
import urllib.parse

import aiohttp
from aiohttp.abc import AbstractResolver
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    JoinResponse,
    LoginResponse,
    ProfileSetDisplayNameResponse,
    RoomCreateResponse,
    RoomMessagesResponse,
    RoomSendResponse,
    RoomTypingResponse,
    SyncResponse,
    UpdateReceiptMarkerResponse,
    UploadResponse,
)
from nio.api import MessageDirection, RoomPreset


class StaticResolver(AbstractResolver):
    """curl's --resolve: HOST:PORT:ADDR entries answer first, the system for the rest.
    The URL keeps the server's name, so TLS (SNI, certificate) and Host are that name."""

    def __init__(self, entries):
        self.map = {}
        for e in entries:
            host, port, addr = e.rsplit(":", 2) if e.count(":") >= 2 else (None, None, None)
            if host is None:
                raise SystemExit(f"--resolve {e!r}: expected HOST:PORT:ADDR")
            self.map[(host.lower(), int(port))] = addr
        self.fallback = aiohttp.ThreadedResolver()

    async def resolve(self, host, port=0, family=socket.AF_INET):
        addr = self.map.get((host.lower(), port))
        if addr is None:
            return await self.fallback.resolve(host, port, family)
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        return [{"hostname": host, "host": addr, "port": port, "family": fam,
                 "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self):
        await self.fallback.close()


class Run:
    """What the run did: counts, durations, failures, for the JSON summary."""

    def __init__(self, args):
        self.args = args
        self.started = time.monotonic()
        self.phases = {}
        self.counts = {"registered": 0, "logged_in": 0, "rooms": 0, "joins": 0,
                       "messages_acknowledged": 0, "displaynames": 0, "typing": 0,
                       "receipts": 0, "media_uploads": 0, "media_downloads": 0,
                       "directory_searches": 0, "federation_reads": 0, "syncs": 0,
                       "messages_pages": 0, "rate_limited_429": 0, "send_retries": 0}
        self.failures = []
        self.acked = []  # dicts: event_id, room_id, sender, body
        self.verify = {}

    def fail(self, what, detail):
        if len(self.failures) < 200:
            self.failures.append({"what": what, "detail": str(detail)[:300]})
        else:
            self.failures[-1] = {"what": "more", "detail": "failures beyond 200 not kept"}

    def phase(self, name):
        run = self

        class Phase:
            def __enter__(self):
                self.t = time.monotonic()

            def __exit__(self, *exc):
                run.phases[name] = round(time.monotonic() - self.t, 3)

        return Phase()


class RateLimiter:
    """At most `rate` starts a second over the whole run (0: unbounded)."""

    def __init__(self, rate):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next = time.monotonic()
        self.lock = asyncio.Lock()

    async def wait(self):
        if not self.interval:
            return
        async with self.lock:
            now = time.monotonic()
            if self.next > now:
                await asyncio.sleep(self.next - now)
            self.next = max(self.next, now) + self.interval


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base-url", required=True, help="client API base, e.g. https://lab.example.org")
    p.add_argument("--server-name", help="the Matrix server name (default: the base URL's host)")
    p.add_argument("--resolve", action="append", default=[], metavar="HOST:PORT:ADDR",
                   help="connect to ADDR for HOST:PORT, keeping HOST for TLS and Host (repeatable)")
    p.add_argument("--insecure", action="store_true", help="do not verify the TLS certificate")
    p.add_argument("--cacert", help="CA file to verify the TLS certificate with")
    p.add_argument("--federation-url", help="federation API base for the federation reads "
                   "(default: the base URL); 'none' to skip them")
    p.add_argument("--admin-url", help="base URL for the shared-secret registration (default: "
                   "the base URL; HAProxy admits /_synapse/admin from the admin networks only)")
    p.add_argument("--shared-secret", help="registration_shared_secret (or --shared-secret-file)")
    p.add_argument("--shared-secret-file")
    p.add_argument("--users", type=int, default=10)
    p.add_argument("--rooms", type=int, default=2)
    p.add_argument("--rooms-per-user", type=int, default=0,
                   help="rooms each user joins (default 0: every room)")
    p.add_argument("--messages", type=int, default=100, help="messages in total")
    p.add_argument("--rate", type=float, default=20.0, help="messages per second at most (0: unbounded)")
    p.add_argument("--concurrency", type=int, default=8, help="requests in flight at most")
    p.add_argument("--prefix", default=f"t{int(time.time()) % 10**8:x}",
                   help="user name prefix (default: from the clock, so reruns do not clash)")
    p.add_argument("--password", default="lab-traffic-password")
    p.add_argument("--logins", type=int, default=-1, metavar="K",
                   help="users that log in with their password (default: all); the others use "
                   "the access token their registration returned. Through HAProxy every user "
                   "of one traffic host shares its address, and rc_login's per-address bucket "
                   "(the lab plan's 0.17/s, burst 3) would make 200 logins take 20 minutes")
    p.add_argument("--spread-addresses", metavar="CIDR",
                   help="give each user its own X-Forwarded-For address from CIDR (per-address "
                   "rate limits see distinct clients, as real users are)")
    p.add_argument("--request-timeout", type=float, default=30.0, help="seconds per request")
    p.add_argument("--send-retries", type=int, default=0,
                   help="retries of a send that failed (same transaction id, 1 s apart), for "
                   "drills that break the path on purpose; a send still failing is a failure")
    p.add_argument("--settle", type=float, default=30.0,
                   help="seconds after the last send within which every user's /sync loop must "
                   "have seen every acknowledged event of its rooms")
    p.add_argument("--timeline-limit", type=int, default=100,
                   help="events per room and /sync asked for (Synapse caps it at its "
                   "filter_timeline_limit, 100 by default)")
    p.add_argument("--sync-interval", type=float, default=1.0,
                   help="seconds between the starts of one user's /syncs at least (a /sync "
                   "returns at each new event of the user's rooms: unthrottled, every message "
                   "wakes every member, which starved a single process at 50 users)")
    p.add_argument("--catch-up", action="store_true",
                   help="users start their /sync loops only after the last send, as clients "
                   "coming back online: a room with more new events than --timeline-limit is "
                   "then `limited` and its gap filled by /messages")
    p.add_argument("--deadline", type=float, default=600.0, help="seconds for the whole run")
    p.add_argument("--out", default="traffic-summary.json", help="the JSON summary")
    p.add_argument("--ids-file", help="acknowledged events, one JSON line each "
                   "(default: next to --out, .events.jsonl)")
    p.add_argument("--inject-missing", type=int, default=0, metavar="N",
                   help="FOR TESTING THE CHECK: add N acknowledged event ids no server ever "
                   "issued, so verification must report them missing and exit 1")
    a = p.parse_args(argv)
    if a.shared_secret_file:
        with open(a.shared_secret_file, encoding="utf-8") as f:
            a.shared_secret = f.read().strip()
    if not a.shared_secret:
        p.error("--shared-secret or --shared-secret-file is required")
    a.base_url = a.base_url.rstrip("/")
    if not a.server_name:
        a.server_name = urllib.parse.urlsplit(a.base_url).hostname
    a.admin_url = (a.admin_url or a.base_url).rstrip("/")
    if a.federation_url is None:
        a.federation_url = a.base_url
    if a.users < 1 or a.rooms < 1 or a.messages < 0:
        p.error("--users and --rooms must be at least 1, --messages at least 0")
    if not 0 <= a.logins <= a.users:
        a.logins = a.users
    if not 0 < a.rooms_per_user <= a.rooms:
        a.rooms_per_user = a.rooms
    # One call: nio's own retries of a timed-out request (2, with back-off) and of 429s
    # included; the deadline bounds everything anyway.
    a.call_timeout = 3 * a.request_timeout + 60
    if not a.ids_file:
        a.ids_file = os.path.splitext(a.out)[0] + ".events.jsonl"
    return a


def tls(args):
    if args.insecure:
        return False
    if args.cacert:
        return ssl.create_default_context(cafile=args.cacert)
    return None


def forwarded_for(args, i):
    """User i's client address when --spread-addresses is given (else None)."""
    if not args.spread_addresses:
        return None
    net = ipaddress.ip_network(args.spread_addresses, strict=False)
    return str(net[1 + i % (net.num_addresses - 2)])


class User:
    def __init__(self, i, run, session, args):
        self.i = i
        self.name = f"{args.prefix}-u{i}"
        self.user_id = f"@{self.name}:{args.server_name}"
        self.rooms = []
        self.headers = {}
        xff = forwarded_for(args, i)
        if xff:
            self.headers = {"X-Forwarded-For": xff,
                            "X-Forwarded-Proto": urllib.parse.urlsplit(args.base_url).scheme}
        cfg = AsyncClientConfig(max_limit_exceeded=30, max_timeouts=2,
                                request_timeout=args.request_timeout,
                                custom_headers=dict(self.headers) or None,
                                encryption_enabled=False)
        self.client = AsyncClient(args.base_url, self.user_id, config=cfg, ssl=tls(args))
        self.client.client_session = session  # shared: the --resolve connector

        async def on_error(resp):
            if isinstance(resp, ErrorResponse) and resp.status_code in ("M_LIMIT_EXCEEDED", 429):
                run.counts["rate_limited_429"] += 1

        self.client.add_response_callback(on_error, ErrorResponse)


class HttpError(RuntimeError):
    def __init__(self, method, url, status, body):
        super().__init__(f"{method} {url} -> {status}: {str(body)[:200]}")
        self.status = status
        self.body = body if isinstance(body, dict) else {}


async def raw(session, args, method, url, headers=None, body=None):
    """One plain HTTP request (the admin and federation APIs nio does not cover): the
    JSON answer of a 200, else HttpError."""
    async with session.request(method, url, json=body, headers=headers or {}, ssl=tls(args),
                               timeout=aiohttp.ClientTimeout(total=args.request_timeout)) as r:
        text = await r.text()
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = text
        if r.status != 200:
            raise HttpError(method, url, r.status, data)
        return data


async def register(run, session, args, u):
    """Shared-secret registration (Synapse's admin API, /_synapse/admin/v1/register):
    a nonce, then HMAC-SHA1 keyed with the secret over nonce NUL user NUL password NUL
    'notadmin'. A 429 is retried after its retry_after_ms. A user that will not log in
    keeps the access token the registration returns."""
    login = u.i < args.logins
    url = f"{args.admin_url}/_synapse/admin/v1/register"
    for _ in range(30):
        try:
            nonce = (await raw(session, args, "GET", url, u.headers))["nonce"]
            mac = hmac.new(args.shared_secret.encode(), digestmod=hashlib.sha1)
            for part in (nonce, u.name, args.password):
                mac.update(part.encode("utf-8") + b"\x00")
            mac.update(b"notadmin")
            r = await raw(session, args, "POST", url, u.headers,
                          {"nonce": nonce, "username": u.name, "password": args.password,
                           "admin": False, "mac": mac.hexdigest(), "inhibit_login": login})
            run.counts["registered"] += 1
            if not login:
                u.client.restore_login(r["user_id"], r["device_id"], r["access_token"])
            return True
        except HttpError as e:
            if e.status != 429:
                run.fail("register", f"{u.name}: {e}")
                return False
            run.counts["rate_limited_429"] += 1
            await asyncio.sleep(e.body.get("retry_after_ms", 1000) / 1000)
        except (aiohttp.ClientError, asyncio.TimeoutError, KeyError) as e:
            run.fail("register", f"{u.name}: {e!r}")
            return False
    run.fail("register", f"{u.name}: still rate limited after 30 tries")
    return False


async def bounded(n, coros):
    sem = asyncio.Semaphore(n)

    async def one(c):
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


class Raised:
    """A request that raised (connection refused, reset, timed out): what nio returns
    as an error response, so that one failed request fails only itself."""

    def __init__(self, e):
        self.e = e

    def __repr__(self):
        return f"raised {self.e!r}"

    __str__ = __repr__


async def guard(coro, seconds):
    try:
        return await asyncio.wait_for(coro, seconds)
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
        return Raised(e)


async def setup(run, session, args, users):
    with run.phase("register"):
        ok = await bounded(args.concurrency, (register(run, session, args, u) for u in users))
    users = [u for u, good in zip(users, ok) if good]

    async def login(u):
        if u.i >= args.logins:
            return True
        r = await guard(u.client.login(args.password, device_name="lab-traffic"), args.call_timeout)
        if isinstance(r, LoginResponse):
            run.counts["logged_in"] += 1
            return True
        run.fail("login", f"{u.name}: {r}")
        return False

    with run.phase("login"):
        ok = await bounded(args.concurrency, (login(u) for u in users))
    users = [u for u, good in zip(users, ok) if good]
    if not users:
        return users, []

    rooms = []
    with run.phase("create_rooms"):
        for r in range(args.rooms):
            creator = users[r % len(users)]
            resp = await guard(creator.client.room_create(name=f"{args.prefix} room {r}",
                                                          preset=RoomPreset.public_chat),
                               args.call_timeout)
            if isinstance(resp, RoomCreateResponse):
                rooms.append(resp.room_id)
                run.counts["rooms"] += 1
            else:
                run.fail("create_room", resp)
    if not rooms:
        return users, rooms

    async def join(u, room_id):
        resp = await guard(u.client.join(room_id), args.call_timeout)
        if isinstance(resp, JoinResponse):
            run.counts["joins"] += 1
            u.rooms.append(room_id)
        else:
            run.fail("join", f"{u.name} {room_id}: {resp}")

    with run.phase("join"):
        jobs = []
        for u in users:
            for k in range(min(args.rooms_per_user, len(rooms))):
                jobs.append(join(u, rooms[(u.i + k) % len(rooms)]))
        await bounded(args.concurrency, jobs)
    return users, rooms


async def first_sync(run, args, u, filt):
    # timeout=0 asks the server for no long-poll, and nio then sets no client timeout.
    resp = await guard(u.client.sync(timeout=0, sync_filter=filt), args.call_timeout)
    if isinstance(resp, SyncResponse):
        run.counts["syncs"] += 1
        return True
    run.fail("sync", f"{u.name}: {resp}")
    return False


async def send_messages(run, args, users):
    senders = [(u, room) for u in users for room in u.rooms]
    if not senders:
        return
    limiter = RateLimiter(args.rate)

    async def send(n):
        u, room = senders[n % len(senders)]
        await limiter.wait()
        body = f"{args.prefix} message {n}"
        for attempt in range(args.send_retries + 1):
            if attempt:
                run.counts["send_retries"] += 1
                await asyncio.sleep(1)
            # The same transaction id on a retry: Synapse answers with the first event.
            resp = await guard(u.client.room_send(room, "m.room.message",
                                                  {"msgtype": "m.text", "body": body},
                                                  tx_id=f"{args.prefix}-{n}"),
                               args.call_timeout)
            if isinstance(resp, RoomSendResponse):
                break
        if isinstance(resp, RoomSendResponse):
            run.acked.append({"event_id": resp.event_id, "room_id": room, "sender": u.user_id,
                              "body": body})
            run.counts["messages_acknowledged"] += 1
        else:
            run.fail("send", f"{u.name} {room}: {resp}")

    with run.phase("send"):
        await bounded(args.concurrency, (send(n) for n in range(args.messages)))


async def extras(run, session, args, users):
    """One of each other request type: profile, typing, receipts, media, directory,
    federation."""
    a = users[0]
    b = users[1] if len(users) > 1 else a

    async def displayname(u):
        r = await guard(u.client.set_displayname(f"Lab user {u.i}"), args.call_timeout)
        if isinstance(r, ProfileSetDisplayNameResponse):
            run.counts["displaynames"] += 1
        else:
            run.fail("displayname", f"{u.name}: {r}")

    await bounded(args.concurrency, (displayname(u) for u in users))
    if a.rooms:
        for state in (True, False):
            r = await guard(a.client.room_typing(a.rooms[0], typing_state=state, timeout=10_000), args.call_timeout)
            if isinstance(r, RoomTypingResponse):
                run.counts["typing"] += 1
            else:
                run.fail("typing", r)
    last = {}
    for e in run.acked:
        last[e["room_id"]] = e["event_id"]

    async def receipt(u):
        room = next((r for r in u.rooms if r in last), None)
        if room is None:
            return
        r = await guard(u.client.update_receipt_marker(room, last[room]), args.call_timeout)
        if isinstance(r, UpdateReceiptMarkerResponse):
            run.counts["receipts"] += 1
        else:
            run.fail("receipt", f"{u.name}: {r}")

    await bounded(args.concurrency, (receipt(u) for u in users))
    payload = os.urandom(64 * 1024)
    up = await guard(a.client.upload(lambda *_: payload, content_type="application/octet-stream",
                                     filename="lab.bin", filesize=len(payload)),
                     args.call_timeout)
    up = up[0] if isinstance(up, tuple) else up
    if isinstance(up, UploadResponse):
        run.counts["media_uploads"] += 1
        down = await guard(b.client.download(mxc=up.content_uri), args.call_timeout)
        body = getattr(down, "body", None)
        if body is not None and hashlib.sha256(body).digest() == hashlib.sha256(payload).digest():
            run.counts["media_downloads"] += 1
        else:
            run.fail("media_download", f"{up.content_uri}: {str(down)[:200]}")
    else:
        run.fail("media_upload", up)
    auth = {"Authorization": f"Bearer {a.client.access_token}", **a.headers}
    try:
        found = await raw(session, args, "POST",
                          f"{args.base_url}/_matrix/client/v3/user_directory/search", auth,
                          {"search_term": args.prefix, "limit": 5})
        run.counts["directory_searches"] += 1
        run.verify["directory_results"] = len(found.get("results", []))
    except (HttpError, aiohttp.ClientError, asyncio.TimeoutError) as e:
        run.fail("user_directory", e)
    if args.federation_url != "none":
        for path in ("/_matrix/federation/v1/version", "/_matrix/key/v2/server"):
            try:
                await raw(session, args, "GET", args.federation_url.rstrip("/") + path)
                run.counts["federation_reads"] += 1
            except (HttpError, aiohttp.ClientError, asyncio.TimeoutError) as e:
                run.fail("federation", e)


def expected_by_user(run, users):
    by_room = {}
    for e in run.acked:
        by_room.setdefault(e["room_id"], set()).add(e["event_id"])
    return {u.user_id: set().union(*(by_room.get(r, set()) for r in u.rooms)) for u in users}, by_room


class Syncer:
    """Every user keeps a /sync loop going from before the first message until it has
    seen every acknowledged event of its rooms (or --settle passes after the last send),
    as a client does. Synapse gives at most filter_timeline_limit (100 by default) events
    per room and sync; when it says `limited` (a gap), the loop fills the gap from the
    timeline's prev_batch with /messages, as a client must: those events count as
    delivered through /sync and are also reported apart (gap_filled)."""

    def __init__(self, run, args, filt):
        self.run, self.args, self.filt = run, args, filt
        self.done = asyncio.Event()
        self.want = {}
        self.seen = {}
        self.limited = 0
        self.gap_filled = 0
        self.errors = 0

    async def fill_gap(self, u, room_id, prev_batch, seen):
        token = prev_batch
        for _ in range(100):
            r = await guard(u.client.room_messages(room_id, start=token, limit=100,
                                                   direction=MessageDirection.back),
                            self.args.call_timeout)
            if not isinstance(r, RoomMessagesResponse):
                self.run.fail("sync_gap", f"{u.name} {room_id}: {r}")
                return
            self.run.counts["messages_pages"] += 1
            overlap = False
            for ev in r.chunk:
                eid = getattr(ev, "event_id", None)
                overlap |= eid in seen
                if eid not in seen:
                    seen.add(eid)
                    self.gap_filled += 1
            if overlap or not r.chunk or not r.end or r.end == token:
                return
            token = r.end

    async def loop(self, u):
        seen = self.seen.setdefault(u.user_id, set())
        end = None
        failures = 0
        last = 0.0
        while True:
            pause = last + self.args.sync_interval - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            last = time.monotonic()
            if self.done.is_set():
                end = end or time.monotonic() + self.args.settle
                if self.want.get(u.user_id, set()) <= seen or time.monotonic() > end:
                    return
            r = await guard(u.client.sync(timeout=2000, sync_filter=self.filt),
                            self.args.call_timeout + 20)
            if not isinstance(r, SyncResponse):
                self.errors += 1
                failures += 1
                self.run.fail("sync", f"{u.name}: {r!r}")
                if failures >= 5:
                    return
                await asyncio.sleep(1)
                continue
            failures = 0
            self.run.counts["syncs"] += 1
            for room_id, room in r.rooms.join.items():
                for ev in room.timeline.events:
                    seen.add(getattr(ev, "event_id", None))
                if room.timeline.limited and room.timeline.prev_batch:
                    self.limited += 1
                    await self.fill_gap(u, room_id, room.timeline.prev_batch, seen)

    def finish(self, want):
        self.want = want
        self.done.set()


async def verify_messages(run, args, users, want, by_room):
    """Every member pages /messages back from now until it has every acknowledged event
    of each of its rooms (or the room's start)."""
    missing = {}

    async def one(u, room):
        need = set(by_room.get(room, set()))
        token = None
        while need:
            r = await guard(u.client.room_messages(room, start=token, limit=1000,
                                                   direction=MessageDirection.back),
                            args.call_timeout)
            if not isinstance(r, RoomMessagesResponse):
                run.fail("messages", f"{u.name} {room}: {r}")
                break
            run.counts["messages_pages"] += 1
            for ev in r.chunk:
                need.discard(getattr(ev, "event_id", None))
            if not r.chunk or not r.end or r.end == token:
                break
            token = r.end
        if need:
            missing.setdefault(u.user_id, []).extend(sorted(need))

    with run.phase("verify_messages"):
        await bounded(args.concurrency, (one(u, room) for u in users for room in u.rooms))
    return missing


async def traffic(run, args):
    resolver = StaticResolver(args.resolve)
    # Every user holds a /sync long-poll open, and --concurrency more requests run.
    conn = aiohttp.TCPConnector(resolver=resolver, limit=args.users + 2 * args.concurrency + 4)
    async with aiohttp.ClientSession(connector=conn) as session:
        users = [User(i, run, session, args) for i in range(args.users)]
        users, rooms = await setup(run, session, args, users)
        if not users or not rooms:
            return
        filt = {"room": {"timeline": {"limit": args.timeline_limit},
                         "state": {"lazy_load_members": True}},
                "presence": {"not_types": ["*"]}}
        with run.phase("first_sync"):
            await bounded(args.concurrency, (first_sync(run, args, u, filt) for u in users))
        syncer = Syncer(run, args, filt)
        loops = [] if args.catch_up else [asyncio.create_task(syncer.loop(u)) for u in users]
        try:
            await send_messages(run, args, users)
            if args.catch_up:
                loops = [asyncio.create_task(syncer.loop(u)) for u in users]
            for n in range(args.inject_missing):
                u = next((u for u in users if u.rooms), users[0])
                fake = "$" + hashlib.sha256(f"{args.prefix} never sent {n}".encode()).hexdigest()[:43]
                run.acked.append({"event_id": fake, "room_id": u.rooms[0], "sender": u.user_id,
                                  "body": "injected by --inject-missing: never sent"})
            want, by_room = expected_by_user(run, users)
            syncer.finish(want)
            with run.phase("extras"):
                await extras(run, session, args, users)
            with run.phase("verify_sync"):
                await asyncio.gather(*loops)
        finally:
            for t in loops:
                t.cancel()
        missing_sync = {k: sorted(v - syncer.seen.get(k, set())) for k, v in want.items()}
        missing_msgs = await verify_messages(run, args, users, want, by_room)
        run.verify.update({
            "member_event_pairs": sum(len(v) for v in want.values()),
            "missing_by_sync": sum(len(v) for v in missing_sync.values()),
            "missing_by_messages": sum(len(v) for v in missing_msgs.values()),
            "limited_timelines": syncer.limited,
            "gap_filled_by_messages": syncer.gap_filled,
            "sync_errors": syncer.errors,
            "missing_sample": sorted({i for v in list(missing_sync.values())
                                      + list(missing_msgs.values()) for i in v})[:10],
        })


def main(argv):
    args = parse_args(argv)
    run = Run(args)
    status = 0
    try:
        asyncio.run(asyncio.wait_for(traffic(run, args), args.deadline))
    except (asyncio.TimeoutError, TimeoutError):
        run.fail("deadline", f"the run passed its deadline of {args.deadline} s")
        status = 3
    with open(args.ids_file, "w", encoding="utf-8") as f:
        for e in run.acked:
            f.write(json.dumps(e) + "\n")
    missing = run.verify.get("missing_by_sync", 0) + run.verify.get("missing_by_messages", 0)
    if missing:
        status = 1
    elif status == 0 and (run.failures or "member_event_pairs" not in run.verify):
        status = 2
    send_s = run.phases.get("send") or 0
    summary = {
        "base_url": args.base_url, "server_name": args.server_name,
        "asked": {"users": args.users, "logins": args.logins, "rooms": args.rooms, "rooms_per_user": args.rooms_per_user,
                  "messages": args.messages, "rate": args.rate, "concurrency": args.concurrency},
        "counts": run.counts,
        "durations_s": {**run.phases, "total": round(time.monotonic() - run.started, 3)},
        "rates_per_s": {
            "messages": round(run.counts["messages_acknowledged"] / send_s, 2) if send_s else None,
            "registrations": round(run.counts["registered"] / run.phases["register"], 2)
            if run.phases.get("register") else None,
            "logins": round(run.counts["logged_in"] / run.phases["login"], 2)
            if run.phases.get("login") else None,
        },
        "verification": run.verify,
        "failures": run.failures,
        "acknowledged_events_file": os.path.abspath(args.ids_file),
        "acknowledged_events": len(run.acked),
        "exit_status": status,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    print(json.dumps({"counts": run.counts, "durations_s": summary["durations_s"],
                      "verification": run.verify, "failures": len(run.failures),
                      "exit_status": status}), file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Traffic between two homeservers for the lab's federation measurement (docs/lab.md,
"Federation"; scripts/lab/federation.sh runs it and measures the database around each
phase).

    federation.py PHASE --state STATE.json [options]

Phases, each run once and in this order; STATE.json carries users, tokens and rooms
from one to the next:

  join      registers --remote-users on the remote server and --local-users on ours
            (shared-secret registration on each), creates --rooms public rooms on the
            remote, joins every remote user to them there, then every local user over
            federation (our server fetches the room's state and auth chain); done when
            our server lists every member of every room.
  remote    --messages messages from the remote users into those rooms; done when each
            room's last one can be read on our server by a local member (GET
            .../event/ID); how many of all can be is reported (see wait_delivered).
  local     --messages messages from the local users into the same rooms; done when each
            room's last one can be read on the remote by a remote member; likewise.
  churn     --messages state changes on the remote (a remote member's member event with a
            new display name, round robin over rooms and users); done as `remote`: what
            a federated room's state costs us as it changes.
  baseline  one room on our server only, with the local users as its members, and
            --messages messages into it from them: the same load without federation,
            to compare with `local`; every acknowledged one must be readable.

Every request has a timeout (--request-timeout), every wait a bound (--settle), the
whole phase a deadline (--deadline). A 429 is honoured (retry_after_ms). Exit status 0
when the phase did all it says, 1 otherwise (what failed is in the summary, --out).
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import sys
import time
import urllib.parse

import aiohttp

from traffic import StaticResolver, bounded, tls


class Failed(RuntimeError):
    pass


async def call(session, args, method, url, token=None, body=None, ok=(200,)):
    """One request; 429s retried after retry_after_ms, up to 30 times. Returns (status,
    JSON) for a status in `ok`, else raises Failed."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for _ in range(30):
        async with session.request(method, url, json=body, headers=headers, ssl=tls(args),
                                   timeout=aiohttp.ClientTimeout(total=args.request_timeout)) as r:
            text = await r.text()
            try:
                data = json.loads(text) if text else {}
            except ValueError:
                data = {"text": text[:200]}
            if r.status == 429:
                await asyncio.sleep(min(data.get("retry_after_ms", 1000), 10000) / 1000)
                continue
            if r.status in ok:
                return r.status, data
            raise Failed(f"{method} {url.split('?')[0]} -> {r.status}: {str(data)[:300]}")
    raise Failed(f"{method} {url.split('?')[0]}: still rate limited after 30 tries")


async def register(session, args, base, secret, name):
    """Shared-secret registration (/_synapse/admin/v1/register): the user's ID and token."""
    url = f"{base}/_synapse/admin/v1/register"
    _, n = await call(session, args, "GET", url)
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    for part in (n["nonce"], name, args.password):
        mac.update(part.encode() + b"\x00")
    mac.update(b"notadmin")
    _, r = await call(session, args, "POST", url, body={
        "nonce": n["nonce"], "username": name, "password": args.password, "admin": False,
        "mac": mac.hexdigest()})
    return {"user_id": r["user_id"], "token": r["access_token"]}


def q(s):
    return urllib.parse.quote(s, safe="")


async def wait_until(what, check, settle):
    """Polls check() (True when done) every 0.5 s for `settle` seconds at most."""
    end = time.monotonic() + settle
    while True:
        if await check():
            return
        if time.monotonic() > end:
            raise Failed(f"{what}: not done after {settle:.0f} s")
        await asyncio.sleep(0.5)


async def phase_join(session, args, st):
    remote, local = args.remote_url, args.local_url
    st["remote_users"] = await bounded(args.concurrency, [
        register(session, args, remote, args.remote_secret, f"{args.prefix}-r{i}")
        for i in range(args.remote_users)])
    st["local_users"] = await bounded(args.concurrency, [
        register(session, args, local, args.local_secret, f"{args.prefix}-l{i}")
        for i in range(args.local_users)])
    owner = st["remote_users"][0]
    st["rooms"] = []
    for i in range(args.rooms):
        _, r = await call(session, args, "POST", f"{remote}/_matrix/client/v3/createRoom",
                          owner["token"], {"preset": "public_chat", "name": f"{args.prefix} {i}"})
        st["rooms"].append(r["room_id"])
    via = q(args.remote_server_name)

    async def join(base, user, room, server=None):
        suffix = f"?server_name={server}" if server else ""
        await call(session, args, "POST", f"{base}/_matrix/client/v3/join/{q(room)}{suffix}",
                   user["token"], {})

    await bounded(args.concurrency, [join(remote, u, r) for u in st["remote_users"][1:]
                                     for r in st["rooms"]])
    # Over federation: a few at a time, as the first joins fetch the room's state.
    await bounded(min(args.concurrency, 4), [join(local, u, r, via) for u in st["local_users"]
                                             for r in st["rooms"]])
    want = args.remote_users + args.local_users
    reader = st["local_users"][0]

    async def all_joined():
        for room in st["rooms"]:
            _, r = await call(session, args, "GET",
                              f"{local}/_matrix/client/v3/rooms/{q(room)}/joined_members",
                              reader["token"])
            if len(r.get("joined", {})) < want:
                return False
        return True

    await wait_until("every member listed on our server", all_joined, args.settle)
    st["members_per_room"] = want
    return {"rooms": len(st["rooms"]), "remote_users": args.remote_users,
            "local_users": args.local_users, "members_per_room": want}


async def paced(args, senders, rooms, put):
    """--messages requests, round robin over rooms and senders, at most --rate a second
    and --concurrency at once: put(i, room, user) → (path, body) of a PUT on that
    user's server; the acknowledged (room, event ID) pairs."""
    interval = 1.0 / args.rate if args.rate > 0 else 0.0
    start = time.monotonic()

    async def one(i):
        if interval:
            await asyncio.sleep(max(0.0, start + i * interval - time.monotonic()))
        room = rooms[i % len(rooms)]
        user = senders[(i // len(rooms)) % len(senders)]
        url, body = put(i, room, user)
        _, r = await call(args.session, args, "PUT", url, user["token"], body)
        return room, r["event_id"]

    return await bounded(args.concurrency, [one(i) for i in range(args.messages)])


async def send_all(session, args, base, senders, rooms):
    """--messages messages (paced): the acknowledged (room, event ID) pairs."""
    return await paced(args, senders, rooms, lambda i, room, user: (
        f"{base}/_matrix/client/v3/rooms/{q(room)}/send/m.room.message/{args.prefix}-{i}",
        {"msgtype": "m.text", "body": f"{args.prefix} message {i} " + "x" * 80}))


async def readable(session, args, base, reader, room, eid):
    status, _ = await call(session, args, "GET",
                           f"{base}/_matrix/client/v3/rooms/{q(room)}/event/{q(eid)}",
                           reader["token"], ok=(200, 404))
    return status == 200


async def wait_delivered(session, args, base, reader, events):
    """Until the last event of each room reads 200 on BASE for READER; then how many of
    all the events read 200 there. A sending server that falls behind a destination
    (a transaction that failed or timed out) catches up by sending only each room's
    latest event, and the receiver fetches at most a few missing ones (Synapse:
    synapse/federation/sender/per_destination_queue.py, `_catch_up_transmission_loop`;
    synapse/handlers/federation_event.py, `_get_missing_events_for_pdu`, limit 10): what
    Synapse guarantees is each room's latest event, not every event pushed."""
    last = {}
    for room, eid in events:
        last[room] = eid

    async def check():
        for room, eid in list(last.items()):
            if not await readable(session, args, base, reader, room, eid):
                return False
            del last[room]
        return True

    await wait_until(f"the last event of each room readable at {base}", check, args.settle)
    found = await bounded(args.concurrency, [readable(session, args, base, reader, r, e)
                                             for r, e in events])
    return sum(found)


async def messages_across(session, args, st, sender, reader):
    """--messages messages from SENDER's side ("remote" or "local") into the federated
    rooms, delivered to READER's side."""
    urls = {"remote": args.remote_url, "local": args.local_url}
    t = time.monotonic()
    events = await send_all(session, args, urls[sender], st[f"{sender}_users"], st["rooms"])
    sent = time.monotonic() - t
    got = await wait_delivered(session, args, urls[reader], st[f"{reader}_users"][0], events)
    return {"messages": len(events), f"readable_on_{'ours' if reader == 'local' else 'remote'}": got,
            "send_s": round(sent, 2), "delivered_s": round(time.monotonic() - t, 2)}


async def phase_remote(session, args, st):
    return await messages_across(session, args, st, "remote", "local")


async def phase_local(session, args, st):
    return await messages_across(session, args, st, "local", "remote")


async def phase_churn(session, args, st):
    """--messages membership updates (a member event with a new display name) by the
    remote users in the remote's rooms: state changes our server must store in state
    groups, in rooms of members_per_room members."""
    t = time.monotonic()
    events = await paced(args, st["remote_users"], st["rooms"], lambda i, room, user: (
        f"{args.remote_url}/_matrix/client/v3/rooms/{q(room)}/state/m.room.member/"
        f"{q(user['user_id'])}", {"membership": "join", "displayname": f"{args.prefix} {i}"}))
    got = await wait_delivered(session, args, args.local_url, st["local_users"][0], events)
    return {"state_events": len(events), "readable_on_ours": got,
            "members_per_room": st["members_per_room"],
            "delivered_s": round(time.monotonic() - t, 2)}


async def phase_baseline(session, args, st):
    local, users = args.local_url, st["local_users"]
    _, r = await call(session, args, "POST", f"{local}/_matrix/client/v3/createRoom",
                      users[0]["token"], {"preset": "public_chat", "name": f"{args.prefix} local"})
    room = r["room_id"]
    await bounded(args.concurrency, [
        call(session, args, "POST", f"{local}/_matrix/client/v3/join/{q(room)}", u["token"], {})
        for u in users[1:]])
    t = time.monotonic()
    events = await send_all(session, args, local, users, [room])
    sent = time.monotonic() - t
    got = sum(await bounded(args.concurrency, [readable(session, args, local, users[-1], r, e)
                                               for r, e in events]))
    if got != len(events):
        raise Failed(f"{len(events) - got} of {len(events)} acknowledged events not readable")
    return {"messages": len(events), "members": len(users), "send_s": round(sent, 2)}


PHASES = {"join": phase_join, "remote": phase_remote, "local": phase_local,
          "churn": phase_churn, "baseline": phase_baseline}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("phase", choices=list(PHASES))
    p.add_argument("--state", required=True, help="JSON carried from phase to phase")
    p.add_argument("--local-url", required=True, help="our client API, e.g. https://lab.example.org")
    p.add_argument("--remote-url", required=True, help="the remote's client API")
    p.add_argument("--remote-server-name", required=True, help="the remote's server name")
    p.add_argument("--resolve", action="append", default=[], metavar="HOST:PORT:ADDR")
    p.add_argument("--cacert", help="CA file that verifies both servers' certificates")
    p.add_argument("--local-secret-file", required=True)
    p.add_argument("--remote-secret-file", required=True)
    p.add_argument("--remote-users", type=int, default=30)
    p.add_argument("--local-users", type=int, default=10)
    p.add_argument("--rooms", type=int, default=2)
    p.add_argument("--messages", type=int, default=300)
    p.add_argument("--rate", type=float, default=20.0, help="messages per second at most")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--prefix", default=f"f{int(time.time()) % 10**8:x}")
    p.add_argument("--password", default="lab-federation-password")
    p.add_argument("--request-timeout", type=float, default=60.0)
    p.add_argument("--settle", type=float, default=300.0)
    p.add_argument("--deadline", type=float, default=900.0)
    p.add_argument("--out", required=True, help="the phase's JSON summary")
    a = p.parse_args(argv)
    if a.remote_users < 1 or a.local_users < 1 or a.rooms < 1 or a.messages < 0:
        p.error("--remote-users, --local-users and --rooms at least 1, --messages at least 0")
    a.insecure = False
    a.local_url = a.local_url.rstrip("/")
    a.remote_url = a.remote_url.rstrip("/")
    with open(a.local_secret_file, encoding="utf-8") as f:
        a.local_secret = f.read().strip()
    with open(a.remote_secret_file, encoding="utf-8") as f:
        a.remote_secret = f.read().strip()
    return a


async def run(args):
    try:
        with open(args.state, encoding="utf-8") as f:
            st = json.load(f)
    except FileNotFoundError:
        if args.phase != "join":
            raise Failed(f"no state file {args.state}: run the join phase first")
        st = {"prefix": args.prefix}
    args.prefix = st["prefix"] + ("" if args.phase == "join" else f"-{args.phase}")
    connector = aiohttp.TCPConnector(resolver=StaticResolver(args.resolve), limit=64)
    async with aiohttp.ClientSession(connector=connector) as session:
        args.session = session
        result = await asyncio.wait_for(PHASES[args.phase](session, args, st), args.deadline)
    with open(args.state, "w", encoding="utf-8") as f:
        json.dump(st, f)
    return result


def main(argv):
    args = parse_args(argv)
    t = time.monotonic()
    summary = {"phase": args.phase}
    rc = 0
    try:
        summary.update(asyncio.run(run(args)))
    except (Failed, aiohttp.ClientError, asyncio.TimeoutError, KeyError) as e:
        summary["failed"] = f"{type(e).__name__}: {e}"
        rc = 1
    summary["seconds"] = round(time.monotonic() - t, 2)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary))
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

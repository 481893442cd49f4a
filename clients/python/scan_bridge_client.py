"""Client of scan-bridge for trading programs: the newest scan from Hazelcast, and a wait until it
is fresh and the bridge is being checked.

One file; its only dependency is hazelcast-python-client. It reads Hazelcast only (no Redis) and
decides readiness by the same rule as ``scan-bridge wait`` and ``GET /api/ready``:

- ``latest_eigen_scan`` is no older than ``max_age_s`` (now - ``timestamp_ms``), and
- the health entry ``scan_bridge_health`` exists, is before its ``validUntil`` and says neither
  ``down`` nor ``error``. The service writes it after every health check with a time-to-live of 3
  health intervals: no entry means nobody is checking;
- with ``strict=True`` only: the health entry names no content warning (a frozen feed, an asset
  count out of band, a schema change, a numeric column gone null). Without it they are reported
  under ``content`` and do not hold the wait.

Settings come from arguments or, like the service, from HZ_MEMBERS (comma-separated host:port),
HZ_CLUSTER_NAME, HZ_MAP and HZ_KEY.
"""

import json
import os
import threading
import time

import hazelcast

HEALTH_KEY = "scan_bridge_health"
_UNUSABLE = ("down", "error")


def _parse(raw):
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        # A value nobody can read is as good as none; readiness then names it missing.
        return None


def readiness(latest, health, max_age_s, now_ms=None, strict=False):
    """The readiness decision on parsed entries: a dict with ``ready``, ``missing`` (phrases),
    ``dataAgeS``, ``scanNumber``, ``health`` (None when absent or expired) and ``content`` (the
    content warnings of the live health entry). With ``strict`` a content warning makes it not
    ready too. Pure."""
    now_ms = time.time() * 1000 if now_ms is None else now_ms
    missing = []
    age = None
    if latest is None:
        missing.append("no scan in Hazelcast")
    else:
        age = round(max(0.0, now_ms - latest["timestamp_ms"]) / 100) / 10
        if age > max_age_s:
            missing.append("data is %.1f s old (scan #%s), over the %s s limit" % (age, latest["scan_number"], _num(max_age_s)))
    live = health if health is not None and health.get("validUntil", 0) > now_ms else None
    if live is None:
        missing.append("no health entry (no health check within 3 intervals: nobody is checking)")
    elif live.get("status") in _UNUSABLE:
        cause = live.get("cause")
        missing.append("the last health check says %s%s" % (live["status"], " (%s)" % cause if cause else ""))
    content = (live or {}).get("content") or []
    if strict and content:
        missing.append("content warning (strict): %s" % "; ".join(w["message"] for w in content))
    return {
        "ready": not missing,
        "missing": missing,
        "maxAgeS": max_age_s,
        "dataAgeS": age,
        "scanNumber": latest["scan_number"] if latest is not None else None,
        "health": live,
        "strict": strict,
        "content": content,
    }


def _num(x):
    return ("%d" % x) if float(x).is_integer() else ("%s" % x)


class ScanBridgeClient:
    """Reads ``HZ_MAP`` (default ``DOLPHIN_FEATURES``): ``HZ_KEY`` (``latest_eigen_scan``) and
    ``scan_bridge_health``. Use as a context manager, or call ``close()``. Connecting raises
    hazelcast's IllegalStateError when no member answers within ``connect_timeout_s``."""

    def __init__(self, members=None, cluster_name=None, map_name=None, key=None, connect_timeout_s=10.0, client=None):
        members = members if members is not None else os.environ.get("HZ_MEMBERS") or "127.0.0.1:5701"
        if isinstance(members, str):
            members = [m.strip() for m in members.split(",") if m.strip()]
        self.map_name = map_name or os.environ.get("HZ_MAP") or "DOLPHIN_FEATURES"
        self.key = key or os.environ.get("HZ_KEY") or "latest_eigen_scan"
        self._own = client is None
        self._client = client or hazelcast.HazelcastClient(
            cluster_members=members,
            cluster_name=cluster_name or os.environ.get("HZ_CLUSTER_NAME") or "dev",
            cluster_connect_timeout=connect_timeout_s,
        )
        self._map = self._client.get_map(self.map_name).blocking()

    def close(self):
        if self._own:
            self._client.shutdown()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def latest_scan(self):
        """The newest scan payload as a dict, or None when there is none."""
        return _parse(self._map.get(self.key))

    def health(self):
        """The last health check's result as a dict, or None when it has expired (nobody is checking)."""
        h = _parse(self._map.get(HEALTH_KEY))
        return h if h is not None and h.get("validUntil", 0) > time.time() * 1000 else None

    def readiness(self, max_age_s=30, strict=False):
        return readiness(self.latest_scan(), _parse(self._map.get(HEALTH_KEY)), max_age_s, strict=strict)

    def wait_until_fresh(self, max_age_s=30, timeout_s=300, on_waiting=None, strict=False):
        """Returns the newest scan once it is no older than ``max_age_s`` and a live health entry
        says neither down nor error. Entry listeners wake it as soon as an entry changes; time
        alone only makes data older, so the one timer is the deadline. Raises TimeoutError naming
        what is missing. ``on_waiting(readiness)`` is called once if it has to wait. With
        ``strict`` it also waits for content warnings (a frozen feed, ...) to clear."""
        cond = threading.Condition()
        raw = {"latest": None, "health": None}
        touched = set()

        def on(which):
            def handler(event):
                with cond:
                    raw[which] = event.value
                    touched.add(which)
                    cond.notify_all()

            return handler

        def listen(which, key):
            h = on(which)
            return self._map.add_entry_listener(
                include_value=True, key=key, added_func=h, updated_func=h, removed_func=h, evicted_func=h, expired_func=h
            )

        deadline = time.monotonic() + timeout_s
        ids = [listen("latest", self.key), listen("health", HEALTH_KEY)]
        try:
            latest, health = self._map.get(self.key), self._map.get(HEALTH_KEY)
            announced = False
            with cond:
                # An event that came during the reads is newer than what they returned.
                if "latest" not in touched:
                    raw["latest"] = latest
                if "health" not in touched:
                    raw["health"] = health
                while True:
                    scan = _parse(raw["latest"])
                    r = readiness(scan, _parse(raw["health"]), max_age_s, strict=strict)
                    if r["ready"]:
                        return scan
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError("not ready after %s s: %s" % (_num(timeout_s), "; ".join(r["missing"])))
                    if not announced:
                        announced = True
                        if on_waiting is not None:
                            on_waiting(r)
                    cond.wait(left)
        finally:
            for i in ids:
                try:
                    self._map.remove_entry_listener(i)
                except Exception:  # noqa: BLE001 - the client may be shutting down; nothing to keep
                    pass

"""Client of scan-bridge for trading programs: the newest scan from Hazelcast, and a wait until it
is fresh and the bridge is being checked.

One file; its only dependency is hazelcast-python-client. It reads Hazelcast only (no Redis) and
decides readiness by the same rule as ``scan-bridge wait`` and ``GET /api/ready``:

- ``latest_eigen_scan`` is a scan (JSON with a whole ``scan_number`` and a numeric
  ``timestamp_ms``) stamped no more than ``max_clock_skew_s`` ahead of this machine's clock, and no
  older than ``max_age_s`` (now - ``timestamp_ms``): any client of the cluster can write that key,
  and a value stamped in 2099 would otherwise count as fresh until 2099; and
- the deployment's health entry exists, is before its ``validUntil`` and says neither ``down``
  nor ``error``. The service writes it after every health check with a time-to-live of 3 health
  intervals: no entry means nobody is checking. Its key is HZ_HEALTH_KEY; by default
  ``scan_bridge_health`` with the default HZ_KEY, else ``scan_bridge_health:<HZ_KEY>``, so that
  two deployments on one cluster never read each other's health.
- with ``strict=True`` only: the health entry names no content warning (a frozen feed, an asset
  count out of band, a schema change, a numeric column gone null). Without it they are reported
  under ``content`` and do not hold the wait.

Settings come from arguments or, like the service, from HZ_MEMBERS (comma-separated host:port),
HZ_CLUSTER_NAME, HZ_MAP, HZ_KEY, HZ_HEALTH_KEY and MAX_CLOCK_SKEW_S.

Install: ``pip install ./clients/python`` (the package ``scan-bridge-client``, this one module).
"""

__version__ = "0.1.0"

import datetime
import json
import math
import os
import threading
import time

import hazelcast
import hazelcast.errors

HEALTH_KEY = "scan_bridge_health"
DEFAULT_KEY = "latest_eigen_scan"


def default_health_key(key):
    """The health entry's key of the deployment whose latest scan is under ``key``, as the service
    derives it when HZ_HEALTH_KEY is not set."""
    return HEALTH_KEY if key == DEFAULT_KEY else "%s:%s" % (HEALTH_KEY, key)
_UNUSABLE = ("down", "error")


def _parse(raw):
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        # A value nobody can read is as good as none; readiness then names it missing.
        return None


class Unusable:
    """A stored value that is not a scan (text that is not JSON, say), and why."""

    def __init__(self, why):
        self.why = why


def load_latest(raw):
    """The stored text of ``latest_eigen_scan`` as JSON, None when absent, or :class:`Unusable`
    when it is not JSON; :func:`readiness` judges the rest."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return Unusable("it is not JSON (%s)" % _json(_excerpt(raw)))


def unusable_why(latest, now_ms=None, max_clock_skew_s=300):
    """Why a parsed ``latest_eigen_scan`` value is no usable scan, or None when it is one: the same
    rule and words as the service (src/bridge/guards/stored-value.ts)."""
    if isinstance(latest, Unusable):
        return latest.why
    if not isinstance(latest, dict):
        return "it is not a JSON object (%s)" % _excerpt(_json(latest))
    n = _whole(latest.get("scan_number"))
    if n is None:
        return "its scan_number is not a whole number (%s)" % _describe(latest, "scan_number")
    t = latest.get("timestamp_ms")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
        return "scan #%d has no usable timestamp_ms (%s)" % (n, _describe(latest, "timestamp_ms"))
    now_ms = time.time() * 1000 if now_ms is None else now_ms
    if t - now_ms > max_clock_skew_s * 1000:
        skew = math.floor((t - now_ms) / 1000 * 10 + 0.5) / 10
        by = ", written by %s," % _json(latest["bridge_id"]) if isinstance(latest.get("bridge_id"), str) else ""
        return "scan #%d of %s%s is stamped %s s ahead of this machine's clock, beyond MAX_CLOCK_SKEW_S=%s" % (
            n,
            _iso(t),
            by,
            _num(skew),
            _num(max_clock_skew_s),
        )
    return None


def readiness(latest, health, max_age_s, now_ms=None, max_clock_skew_s=300, strict=False):
    """The readiness decision on parsed entries (``latest`` as :func:`load_latest` gives it): a dict
    with ``ready``, ``missing`` (phrases), ``dataAgeS``, ``scanNumber``, ``health`` (None when
    absent or expired) and ``content`` (the content warnings of the live health entry). With
    ``strict`` a content warning makes it not ready too. Pure."""
    now_ms = time.time() * 1000 if now_ms is None else now_ms
    missing = []
    age = None
    why = None if latest is None else unusable_why(latest, now_ms, max_clock_skew_s)
    if why is not None:
        missing.append("the value in Hazelcast is no usable scan: %s" % why)
        latest = None
    elif latest is None:
        missing.append("no scan in Hazelcast")
    else:
        age = round(max(0.0, now_ms - latest["timestamp_ms"]) / 100) / 10
        if age > max_age_s:
            missing.append("data is %.1f s old (scan #%s), over the %s s limit" % (age, _whole(latest["scan_number"]), _num(max_age_s)))
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
        "scanNumber": _whole(latest["scan_number"]) if latest is not None else None,
        "health": live,
        "strict": strict,
        "content": content,
    }


def _num(x):
    return ("%d" % x) if float(x).is_integer() else ("%s" % x)


def _whole(v):
    """A scan number as the service accepts it: a whole number from 0 to 2^53 - 1, or up to 15 digits as text."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int) and 0 <= v <= 2**53 - 1:
        return v
    if isinstance(v, float) and v.is_integer() and 0 <= v <= 2**53 - 1:
        return int(v)
    if isinstance(v, str) and 1 <= len(v) <= 15 and v.isascii() and v.isdigit():
        return int(v)
    return None


def _json(v):
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def _excerpt(s):
    return s[:60] + "\u2026" if len(s) > 60 else s


def _describe(d, field):
    return _excerpt(_json(d[field])) if field in d else "none"


def _iso(ms):
    try:
        dt = datetime.datetime.fromtimestamp(math.floor(ms) // 1000, tz=datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return _num(ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (math.floor(ms) % 1000)


def _connect(members, cluster_name, timeout_s):
    """A connected Hazelcast client, or ConnectionError saying which members did not answer."""
    try:
        return hazelcast.HazelcastClient(cluster_members=members, cluster_name=cluster_name, cluster_connect_timeout=timeout_s)
    except hazelcast.errors.HazelcastError:
        # The driver's own error and traceback say only "Unable to connect to any cluster": ours names the members.
        raise ConnectionError(
            "no Hazelcast member of cluster %r answered at %s within %s s" % (cluster_name, ", ".join(members), _num(timeout_s))
        ) from None


class ScanBridgeClient:
    """Reads ``HZ_MAP`` (default ``DOLPHIN_FEATURES``): ``HZ_KEY`` (``latest_eigen_scan``) and
    ``HZ_HEALTH_KEY`` (see :func:`default_health_key`). Use as a context manager, or call
    ``close()``. Connecting raises ConnectionError naming the members and the cluster when none
    answers within
    ``connect_timeout_s``."""

    def __init__(
        self,
        members=None,
        cluster_name=None,
        map_name=None,
        key=None,
        connect_timeout_s=10.0,
        client=None,
        max_clock_skew_s=None,
        health_key=None,
    ):
        members = members if members is not None else os.environ.get("HZ_MEMBERS") or "127.0.0.1:5701"
        if isinstance(members, str):
            members = [m.strip() for m in members.split(",") if m.strip()]
        self.map_name = map_name or os.environ.get("HZ_MAP") or "DOLPHIN_FEATURES"
        self.key = key or os.environ.get("HZ_KEY") or DEFAULT_KEY
        self.health_key = health_key or os.environ.get("HZ_HEALTH_KEY") or default_health_key(self.key)
        skew = max_clock_skew_s if max_clock_skew_s is not None else os.environ.get("MAX_CLOCK_SKEW_S") or 300
        self.max_clock_skew_s = float(skew)
        self._own = client is None
        self._client = client or _connect(members, cluster_name or os.environ.get("HZ_CLUSTER_NAME") or "dev", connect_timeout_s)
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
        h = _parse(self._map.get(self.health_key))
        return h if h is not None and h.get("validUntil", 0) > time.time() * 1000 else None

    def readiness(self, max_age_s=30, strict=False):
        return readiness(
            load_latest(self._map.get(self.key)), _parse(self._map.get(self.health_key)), max_age_s, max_clock_skew_s=self.max_clock_skew_s, strict=strict
        )

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
        ids = [listen("latest", self.key), listen("health", self.health_key)]
        try:
            latest, health = self._map.get(self.key), self._map.get(self.health_key)
            announced = False
            with cond:
                # An event that came during the reads is newer than what they returned.
                if "latest" not in touched:
                    raw["latest"] = latest
                if "health" not in touched:
                    raw["health"] = health
                while True:
                    scan = load_latest(raw["latest"])
                    r = readiness(scan, _parse(raw["health"]), max_age_s, max_clock_skew_s=self.max_clock_skew_s, strict=strict)
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

"""Seeded test data that compresses like the real thing.

Order events and user events look like what an order-processing service or a click
stream really sends: the same field names in every record, ids with shared prefixes,
enum-like strings drawn from small sets, prices, ISO timestamps.  That repetition is
what gives JSON its 3–6× compression ratios, so codec comparisons on this data mean
something.  ``random`` bytes do not compress at all; ``text`` is English-like prose.

Everything draws from the ``Random`` it is given: the same seed gives the same
bytes.  ``generate(kind, rng, size_hint)`` makes one value; ``ValuePool`` pre-generates a
few thousand and hands them out cheaply (what the workload threads use).
"""

from __future__ import annotations

import itertools
import json
from random import Random

KINDS = ("json-orders", "json-users", "random", "text", "fixed")

_STATUSES = ("CREATED", "PAID", "PACKED", "SHIPPED", "DELIVERED", "CANCELLED", "REFUNDED")
_STATUS_WEIGHTS = (30, 25, 15, 15, 10, 3, 2)
_CURRENCIES = ("EUR", "USD", "GBP", "SEK", "PLN")
_PAYMENT = ("card", "paypal", "bank_transfer", "apple_pay", "klarna")
_CHANNELS = ("web", "ios", "android", "pos", "partner_api")
_COUNTRIES = (("DE", "Berlin", "10115"), ("FR", "Paris", "75001"), ("NL", "Amsterdam", "1012"),
              ("GB", "London", "EC1A"), ("US", "Austin", "73301"), ("PL", "Warsaw", "00-001"),
              ("SE", "Stockholm", "111 20"), ("ES", "Madrid", "28001"))
_CATEGORIES = ("books", "electronics", "garden", "toys", "kitchen", "sports", "beauty")
_USER_EVENTS = ("page_view", "page_view", "page_view", "search", "add_to_cart", "login",
                "logout", "checkout_started", "product_view", "product_view")
_PAGES = ("/", "/search", "/cart", "/checkout", "/account", "/products/{id}",
          "/category/{cat}", "/help/shipping", "/deals")
_DEVICES = (("mobile", "iOS", "Safari"), ("mobile", "Android", "Chrome"),
            ("desktop", "Windows", "Chrome"), ("desktop", "macOS", "Safari"),
            ("desktop", "Linux", "Firefox"), ("tablet", "iPadOS", "Safari"))
_REFERRERS = ("https://www.google.com/", "https://duckduckgo.com/", "direct",
              "https://news.example.org/article", "email_campaign_2026_11")
_WORDS = ["the", "producer", "sends", "records", "to", "a", "broker", "and", "each", "record", "is", "appended", "to", "a", "batch", "for", "its", "partition", "while", "the", "sender", "thread", "drains", "ready", "batches", "into", "requests", "compression", "works", "on", "whole", "batches", "so", "larger", "batches", "compress", "better", "and", "the", "buffer", "memory", "holds", "every", "batch", "until", "the", "broker", "acknowledges", "it"]

# Timestamps start at a fixed instant so runs are reproducible (2026-11-27T14:32:00Z).
_BASE_TS_MS = 1_795_790_320_000


def _iso(ts_ms: int) -> str:
    # A fixed-offset ISO-8601 string without the datetime module's cost.
    secs, ms = divmod(ts_ms, 1000)
    days, rem = divmod(secs, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    day = 27 + days % 3
    return f"2026-11-{day:02d}T{h:02d}:{m:02d}:{s:02d}.{ms:03d}Z"


def _dumps(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def order_event(rng: Random, size_hint: int = 300) -> bytes:
    """One order event as compact JSON, grown with line items towards ``size_hint``."""
    ts = _BASE_TS_MS + rng.randrange(0, 86_400_000)
    if size_hint < 170:
        # A compact status update: what small order events on a busy topic look like.
        return _dumps({"order_id": f"ord-{rng.randrange(16**8):08x}",
                       "status": rng.choices(_STATUSES, _STATUS_WEIGHTS)[0],
                       "amount": round(rng.choice((9.99, 19.99, 49.9, 99.0)) * rng.randrange(1, 6), 2),
                       "ts": _iso(ts)})
    country, city, zipc = rng.choice(_COUNTRIES)
    order: dict = {
        "event_type": "order_" + rng.choices(_STATUSES, _STATUS_WEIGHTS)[0].lower(),
        "order_id": f"ord-{rng.randrange(16**8):08x}",
        "customer_id": f"cust-{rng.randrange(200_000):06d}",
        "ts": _iso(ts),
    }
    if size_hint > 120:
        order.update({
            "status": rng.choices(_STATUSES, _STATUS_WEIGHTS)[0],
            "currency": rng.choice(_CURRENCIES),
            "channel": rng.choice(_CHANNELS),
        })
    if size_hint > 200:
        order["payment_method"] = rng.choice(_PAYMENT)
        order["shipping"] = {"country": country, "city": city, "zip": zipc}
    items: list = []
    total = 0.0
    base = len(_dumps(order))
    while True:
        qty = rng.choice((1, 1, 1, 2, 2, 3, 5))
        price = round(rng.choice((4.99, 9.99, 12.5, 19.99, 24.0, 49.9, 99.0, 149.0))
                      * rng.choice((1, 1, 1, 0.9, 0.8)), 2)
        item = {"sku": f"SKU-{rng.randrange(10_000, 99_999)}", "qty": qty, "unit_price": price,
                "category": rng.choice(_CATEGORIES)}
        items.append(item)
        total += qty * price
        base += 75
        if base + 30 >= size_hint or len(items) >= 200:
            break
    order["items"] = items
    order["total"] = round(total, 2)
    return _dumps(order)


def user_event(rng: Random, size_hint: int = 250) -> bytes:
    """One click-stream event (page views, searches, logins) as compact JSON."""
    kind = rng.choice(_USER_EVENTS)
    dtype, os_, browser = rng.choice(_DEVICES)
    page = rng.choice(_PAGES).format(id=rng.randrange(1, 5000), cat=rng.choice(_CATEGORIES))
    event: dict = {
        "event": kind,
        "user_id": f"u-{rng.randrange(1_000_000):07d}",
        "ts": _iso(_BASE_TS_MS + rng.randrange(0, 86_400_000)),
        "page": page,
    }
    if size_hint > 120:
        event["session_id"] = f"s-{rng.randrange(16**12):012x}"
        event["device"] = {"type": dtype, "os": os_, "browser": browser}
    if size_hint > 220:
        country = rng.choice(_COUNTRIES)[0]
        event["geo"] = {"country": country, "lang": country.lower()}
        event["referrer"] = rng.choice(_REFERRERS)
    if kind == "search":
        event["query"] = " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(1, 4)))
    data = _dumps(event)
    if len(data) + 40 < size_hint:
        # Longer events carry the recently viewed products, as many trackers do.
        event["recent_products"] = [f"p-{rng.randrange(1, 5000)}"
                                    for _ in range((size_hint - len(data)) // 9)]
        data = _dumps(event)
    return data


def text(rng: Random, size_hint: int = 200) -> bytes:
    out: list[str] = []
    n = 0
    while n < size_hint:
        w = rng.choice(_WORDS)
        out.append(w)
        n += len(w) + 1
    return " ".join(out)[:max(1, size_hint)].encode()


def generate(kind: str, rng: Random, size_hint: int = 100) -> bytes:
    """One value of ``kind`` (see ``KINDS``), about ``size_hint`` bytes (exact for
    ``random``, ``text`` and ``fixed``; JSON events round to whole fields)."""
    if not isinstance(size_hint, int) or isinstance(size_hint, bool) or size_hint < 0:
        raise ValueError(f"size_hint: must be an integer >= 0, got {size_hint!r}")
    if kind == "json-orders":
        return order_event(rng, size_hint)
    if kind == "json-users":
        return user_event(rng, size_hint)
    if kind == "random":
        return rng.randbytes(size_hint)
    if kind == "text":
        return text(rng, size_hint) if size_hint else b""
    if kind == "fixed":
        return (b"0123456789abcdef" * (size_hint // 16 + 1))[:size_hint]
    raise ValueError(f"data: unknown kind {kind!r}; known: {', '.join(KINDS)}")


class ValuePool:
    """Pre-generated values handed out in a seeded order: cheap per record, and varied
    enough that a batch rarely holds the same value twice."""

    __slots__ = ("_n", "next", "values")

    def __init__(self, kind: str, rng: Random, size_hint: int, count: int = 2048) -> None:
        if kind == "fixed":
            count = 1
        self.values = [generate(kind, rng, size_hint) for _ in range(count)]
        n = self._n = len(self.values)
        start = rng.randrange(n)
        # A stride coprime with the pool size visits every value before repeating.
        step = rng.randrange(1, max(2, n))
        while n > 1 and _gcd(step, n) != 1:
            step += 1
        order = [self.values[(start + k * step) % n] for k in range(1, n + 1)]
        # ``next()`` is the C-level iterator of an endless cycle: per-record cost ~0.
        self.next = itertools.cycle(order).__next__

    @property
    def mean_size(self) -> float:
        return sum(map(len, self.values)) / self._n


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a

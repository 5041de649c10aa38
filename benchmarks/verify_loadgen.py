"""Open-loop load generator for the verification API (run as its own process by
``verify_api.py``). Request i is due at ``start + i / rate`` whatever happened to earlier ones;
its latency runs from that due time to the last byte of the response, so a slow server shows
as queueing delay instead of a lower offered rate (no coordinated omission). HTTP/1.1 keep-alive
over ``--connections`` raw asyncio sockets; the request bytes are built before the clock starts.

Mix: 85 % real-name checks of registry persons (1 in 20 with a wrong name), 5 % of unknown
numbers, 10 % ``alive`` status checks. Prints one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from verify_registry import person_at  # noqa: E402


def _request(host: str, path: str, key: str, body: dict[str, str]) -> bytes:
    payload = json.dumps(body, ensure_ascii=False).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n")
    return head.encode() + payload


def build_requests(host: str, key: str, persons: int, count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    requests = []
    for _ in range(count):
        draw = rng.random()
        number, name, _, _ = person_at(rng.randrange(persons))
        if draw < 0.85:
            if rng.random() < 0.05:
                name = name[:1] + "某"
            requests.append(_request(host, "/api/v1/verify/person", key,
                                     {"name": name, "id_number": number}))
        elif draw < 0.90:
            unknown, _, _, _ = person_at(persons + rng.randrange(1_000_000))
            requests.append(_request(host, "/api/v1/verify/person", key,
                                     {"name": name, "id_number": unknown}))
        else:
            requests.append(_request(host, "/api/v1/verify/status", key,
                                     {"id_number": number, "kind": "alive"}))
    return requests


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def run(url: str, requests: list[bytes], rate: float, connections: int,
              warmup: float) -> dict[str, object]:
    parts = urlsplit(url)
    queue: asyncio.Queue[tuple[bytes, float] | None] = asyncio.Queue()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    measure_from = 0.0

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        while (item := await queue.get()) is not None:
            request, due = item
            try:
                writer.write(request)
                status = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
                continue
            if due >= measure_from:
                latencies.append(time.perf_counter() - due)
                statuses[status] = statuses.get(status, 0) + 1
        writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    await asyncio.sleep(0.2)
    start = time.perf_counter()
    measure_from = start + warmup
    interval = 1.0 / rate
    for index, request in enumerate(requests):
        due = start + index * interval
        delay = due - time.perf_counter()
        if delay > 0.001:
            await asyncio.sleep(delay)
        queue.put_nowait((request, due))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    finished = time.perf_counter()
    measured = len(latencies)
    latencies.sort()

    def percentile(p: float) -> float:
        return latencies[min(measured - 1, int(p * measured))] * 1000 if measured else 0.0

    window = finished - measure_from
    return {
        "offered_rate": rate, "requests": len(requests), "measured": measured,
        "errors": errors, "statuses": statuses,
        "sustained_rps": measured / window if window > 0 else 0.0,
        "p50_ms": percentile(0.50), "p95_ms": percentile(0.95), "p99_ms": percentile(0.99),
        "max_ms": latencies[-1] * 1000 if measured else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--rate", type=float, default=2000)
    parser.add_argument("--duration", type=float, default=30, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=5, help="seconds not measured")
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    count = int(args.rate * (args.duration + args.warmup))
    host = urlsplit(args.url).netloc
    requests = build_requests(host, args.key, args.persons, count, args.seed)
    result = asyncio.run(run(args.url, requests, args.rate, args.connections, args.warmup))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""A minimal fake OpenAI-compatible server for the eval benchmark (loopback only).

It answers ``POST /v1/chat/completions`` with a valid ``chat.completion`` after a fixed artificial
latency (and ``POST /v1/embeddings`` at once, with letter-count vectors, for the import parity
check), and counts the calls it served (``GET /stats``, ``POST /reset``). It is written on a raw
asyncio ``Protocol`` rather than a web framework because it must never be the bottleneck of the
tools it measures: parsing is a few string operations and the delay is a ``call_later``, so no
coroutine or task is created per request (see ``bench/README.md`` for its measured ceiling).

    python bench/fake_openai.py --port 8765 --latency-ms 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time
from collections import Counter

# The answer echoes the last user message, so every case's `contains` assertion can check for its
# own id; the fixed tail is what the suite's other assertions look for.
ANSWER_TAIL = " Set one measurable goal by the end of the quarter."
SAMPLING = ("model", "temperature", "max_tokens", "max_completion_tokens", "seed")


class Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        # how many completions were asked with each set of sampling parameters (the parity check compares them)
        self.sampling: Counter[str] = Counter()
        self.completions = 0
        self.other = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.started = time.time()

    def as_dict(self) -> dict:
        return {
            "completions": self.completions,
            "other": self.other,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "since_s": round(time.time() - self.started, 3),
            "sampling": dict(self.sampling),
        }


def sampling_key(request: dict) -> str:
    """The request's sampling parameters as one string; a JSON number is its value (0 and 0.0 are one)."""
    values = {key: request.get(key) for key in SAMPLING}
    numbers = {k: float(v) for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return json.dumps({**values, **numbers}, sort_keys=True)


def completion_body(request: dict) -> bytes:
    messages = request.get("messages") or []
    user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    content = user.get("content", "")
    if isinstance(content, list):  # the content-parts form
        content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    answer = f"Answer to: {content[:200]}.{ANSWER_TAIL}"
    prompt_tokens = max(1, sum(len(str(m.get("content", ""))) for m in messages) // 4)
    completion_tokens = max(1, len(answer) // 4)
    return json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "bench-model"),
            "system_fingerprint": "fp_bench",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        },
        separators=(",", ":"),
    ).encode()


def embedding_vector(text: str) -> list[float]:
    """A deterministic stand-in embedding: letter counts, so texts sharing words are close."""
    lowered = text.lower()
    return [float(lowered.count(chr(c))) for c in range(ord("a"), ord("z") + 1)]


def embeddings_body(request: dict) -> bytes:
    texts = request.get("input") or []
    texts = [texts] if isinstance(texts, str) else texts
    data = [{"object": "embedding", "index": i, "embedding": embedding_vector(str(t))} for i, t in enumerate(texts)]
    usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
    body = {"object": "list", "data": data, "model": request.get("model", "bench-embedding"), "usage": usage}
    return json.dumps(body, separators=(",", ":")).encode()


def http_response(status: str, body: bytes, keep_alive: bool) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    return head.encode() + body


class FakeOpenAI(asyncio.Protocol):
    """One HTTP/1.1 connection; requests on it are answered in order (clients do not pipeline)."""

    def __init__(self, stats: Stats, latency: float) -> None:
        self.stats = stats
        self.latency = latency
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.busy = False  # a response is pending; later bytes wait in the buffer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.busy:
            self.process()

    def process(self) -> None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.transport is None:
            return
        head = self.buffer[:end].decode("latin-1")
        lines = head.split("\r\n")
        method, path, _ = [*lines[0].split(" "), "", ""][:3]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        rest = self.buffer[end + 4 :]
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body, rest = decode_chunked(rest)
            if body is None:
                return  # wait for the rest of the body
        else:
            length = int(headers.get("content-length", "0") or 0)
            if len(rest) < length:
                return
            body, rest = rest[:length], rest[length:]
        self.buffer = rest
        keep_alive = headers.get("connection", "").lower() != "close"
        self.route(method, path.split("?")[0], body, keep_alive)

    def route(self, method: str, path: str, body: bytes, keep_alive: bool) -> None:
        if method == "POST" and path.endswith("/chat/completions"):
            try:
                request = json.loads(body or b"{}")
                payload = completion_body(request)
                response = http_response("200 OK", payload, keep_alive)
                self.stats.sampling[sampling_key(request)] += 1
            except ValueError:
                response = http_response("400 Bad Request", b'{"error":{"message":"bad json"}}', keep_alive)
            self.stats.completions += 1
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
            self.busy = True
            if self.latency > 0:
                asyncio.get_running_loop().call_later(self.latency, self.send, response, keep_alive, True)
            else:
                self.send(response, keep_alive, True)
            return
        self.stats.other += 1
        if method == "GET" and path == "/stats":
            response = http_response("200 OK", json.dumps(self.stats.as_dict()).encode(), keep_alive)
        elif method == "POST" and path == "/reset":
            self.stats.reset()
            response = http_response("200 OK", b"{}", keep_alive)
        elif method == "POST" and path.endswith("/embeddings"):
            try:
                response = http_response("200 OK", embeddings_body(json.loads(body or b"{}")), keep_alive)
            except ValueError:
                response = http_response("400 Bad Request", b'{"error":{"message":"bad json"}}', keep_alive)
        elif method == "GET" and path.endswith("/models"):
            models = {"object": "list", "data": [{"id": "bench-model", "object": "model"}]}
            response = http_response("200 OK", json.dumps(models).encode(), keep_alive)
        else:
            response = http_response("404 Not Found", b'{"error":{"message":"not found"}}', keep_alive)
        self.send(response, keep_alive, False)

    def send(self, response: bytes, keep_alive: bool, completion: bool) -> None:
        if completion:
            self.stats.in_flight -= 1
        self.busy = False
        if self.transport is None:
            return
        self.transport.write(response)
        if not keep_alive:
            self.transport.close()
            return
        if self.buffer:
            self.process()


def decode_chunked(data: bytes) -> tuple[bytes | None, bytes]:
    body, pos = b"", 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None, data
        size = int(data[pos:eol].split(b";")[0], 16)
        if size == 0:
            end = data.find(b"\r\n", eol + 2)  # no trailers expected: the final CRLF
            return (body, data[end + 2 :]) if end >= 0 else (None, data)
        if len(data) < eol + 2 + size + 2:
            return None, data
        body += data[eol + 2 : eol + 2 + size]
        pos = eol + 2 + size + 2


async def serve(host: str, port: int, latency_ms: float, ready_file: str | None) -> None:
    stats = Stats()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: FakeOpenAI(stats, latency_ms / 1000), host, port, backlog=4096, reuse_address=True
    )
    actual_port = server.sockets[0].getsockname()[1]
    if ready_file:  # the harness waits for this file to learn the port (port 0 = any free one)
        tmp = ready_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(str(actual_port))
        os.replace(tmp, ready_file)
    print(f"fake-openai listening on http://{host}:{actual_port}/v1 latency={latency_ms}ms", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="loopback only, by design")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--ready-file", help="write the bound port here once listening")
    parser.add_argument("--uvloop", action="store_true", help="use uvloop if it is installed")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the fake server only listens on loopback")
    if args.uvloop:
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            print("uvloop not installed; using the default event loop", flush=True)
    asyncio.run(serve(args.host, args.port, args.latency_ms, args.ready_file))


if __name__ == "__main__":
    main()

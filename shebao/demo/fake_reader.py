"""A fake ID card reader service for the demo and the tests (standard library only).

It speaks the most widespread convention of the services card reader vendors install on
an operator's PC (docs/reader.md): HTTP, `GET /OpenDevice`, `GET /readcard`,
`GET /CloseDevice`, each answering JSON with `resultFlag` (0 = success) and `errorMsg`, with
CORS headers (and Chrome's Private/Local Network Access preflight answered).

The card on the reader is chosen with `GET /control?card=<key>` (or `?card=<key>` on
/readcard for one read): `resident` (the default), `foreign` (外国人永久居留身份证, certType I),
`hmt` (港澳台居民居住证, certType J), `badphoto` (a chip photo of 40×50 px, refused by the
checks) and `none` (no card: /readcard fails). `GET /cards` lists them.

    python -m shebao.demo.fake_reader [--host 127.0.0.1] [--port 19196]
"""

from __future__ import annotations

import argparse
import base64
import json
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 19196


def bmp(width: int, height: int, shade: tuple[int, int, int]) -> bytes:
    """An uncompressed 24-bit BMP: a pale background with a head and shoulders in `shade`."""
    stride = (width * 3 + 3) // 4 * 4
    rows = []
    cx, cy, r = width / 2, height * 0.38, width * 0.22
    for y in range(height - 1, -1, -1):  # bottom-up
        row = bytearray()
        for x in range(width):
            head = (x - cx) ** 2 + (y - cy) ** 2 <= r * r
            body = y > height * 0.68 and abs(x - cx) < width * 0.42 - (height - y) * 0.05
            b, g, rr = (shade[2], shade[1], shade[0]) if head or body else (250, 244, 236)
            row += bytes((b, g, rr))
        rows.append(bytes(row) + b"\0" * (stride - width * 3))
    pixels = b"".join(rows)
    header = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(header) + len(pixels), 0, 0, 54) + header + pixels


def _card(name, gender, nation, born, address, number, cert_type="", photo=(102, 126), shade=(40, 70, 120)):
    return {
        "partyName": name,
        "gender": gender,
        "nation": nation,
        "bornDay": born,
        "certAddress": address,
        "certNumber": number,
        "certOrg": "武汉市公安局江岸分局" if not cert_type else "国家移民管理局",
        "effDate": "20200101",
        "expDate": "20400101",
        "certType": cert_type,
        "identityPic": base64.b64encode(bmp(photo[0], photo[1], shade)).decode("ascii"),
    }


CARDS = {
    "resident": _card("王晓明", "男", "汉", "19900307", "湖北省武汉市江岸区沿江大道188号", "420102199003071232"),
    "foreign": _card("约翰史密斯", "男", "", "19850612", "", "93284019850612001X", cert_type="I", shade=(110, 60, 40)),
    "hmt": _card(
        "陈嘉欣",
        "女",
        "",
        "19950820",
        "湖北省武汉市武昌区中北路9号",
        "810000199508200022",
        cert_type="J",
        shade=(90, 40, 90),
    ),
    "badphoto": _card(
        "李小红", "女", "土家", "19920115", "湖北省恩施市舞阳大道1号", "422801199201150023", photo=(40, 50)
    ),
}


class Reader:
    """The card on the reader (None: no card) and whether the device is open."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.card: str | None = "resident"
        self.open = False


def make_handler(reader: Reader):
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeIdCardReader/1.0"

        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            sys.stderr.write("fake-reader: " + format % args + "\n")

        def _send(self, payload: dict, status: int = 200) -> None:
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_OPTIONS(self):  # noqa: N802 (the protocol's name)
            self.send_response(204)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Methods", "GET, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "*")
            self.send_header("Access-Control-Allow-Private-Network", "true")
            self.send_header("Access-Control-Allow-Local-Network", "true")
            self.end_headers()

        def do_GET(self):  # noqa: N802
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            path = url.path.rstrip("/") or "/"
            with reader.lock:
                if path == "/OpenDevice":
                    reader.open = True
                    self._send({"resultFlag": 0, "errorMsg": ""})
                elif path == "/CloseDevice":
                    reader.open = False
                    self._send({"resultFlag": 0, "errorMsg": ""})
                elif path == "/readcard":
                    key = query.get("card", reader.card)
                    if not reader.open:
                        self._send({"resultFlag": -1, "errorMsg": "设备未打开"})
                    elif key in (None, "none") or key not in CARDS:
                        self._send({"resultFlag": -2, "errorMsg": "未检测到身份证"})
                    else:
                        self._send({"resultFlag": 0, "errorMsg": "", **CARDS[key]})
                elif path == "/control":
                    key = query.get("card", "")
                    if key != "none" and key not in CARDS:
                        self._send({"resultFlag": -1, "errorMsg": f"unknown card {key!r}"}, status=400)
                        return
                    reader.card = None if key == "none" else key
                    self._send({"resultFlag": 0, "errorMsg": "", "card": key})
                elif path == "/cards":
                    self._send({"resultFlag": 0, "errorMsg": "", "cards": [*CARDS, "none"], "card": reader.card})
                else:
                    self._send({"resultFlag": -1, "errorMsg": "not found"}, status=404)

    return Handler


def make_server(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), make_handler(Reader()))
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fake second-generation ID card reader service")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    try:
        server = make_server(args.host, args.port)
    except OSError as error:
        sys.stderr.write(f"fake-reader: cannot listen on {args.host}:{args.port}: {error}\n")
        return 2
    sys.stdout.write(f"fake-reader: listening on http://{args.host}:{args.port} (cards: {', '.join(CARDS)}, none)\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

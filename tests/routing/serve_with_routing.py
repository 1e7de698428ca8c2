"""`assist serve` with routing installed, for the restart test until app.py wires routing in.

    python -m tests.routing.serve_with_routing --ws-port 0 --http-port 0 --db D   (ASSIST_ROUTING=file)

Prints "ready ws=P http=Q" once both servers listen; stops cleanly on SIGTERM. Once app.py
calls `install_routing` itself, the call here returns that same service (it is idempotent).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

from assist.app import start
from assist.config import Settings, load_settings
from assist.server.routing_service import install_routing


async def serve(settings: Settings) -> None:
    running = await start(settings)
    routing = await install_routing(running.hub, settings)
    print(f"ready ws={running.ws_port} http={running.http_port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await routing.close()
    await running.close()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--ws-port", type=int)
    p.add_argument("--http-port", type=int)
    p.add_argument("--db", type=Path)
    args = p.parse_args()
    asyncio.run(serve(load_settings(None, {"ws_port": args.ws_port, "http_port": args.http_port, "db": args.db})))


if __name__ == "__main__":
    main()

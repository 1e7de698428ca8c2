"""What one very long agent line costs the forbidden-phrase checker, and how many warnings it gives.

A speech recogniser that never ends a line, or a pasted document, can send one `call.transcript`
line of tens of kilobytes. The checker runs in the live loop, so a line must cost time linear in
its length and give a bounded number of warnings. Each case below is one line of about 60,000
characters made by repeating a short agent sentence; an ordinary 30-character line is the
baseline. Figures are the median of a few runs, in CPU time of this thread (`time.thread_time`):
what the line takes from the event loop, without the waits a busy machine adds to a wall clock.

    python -m bench.forbidden_cost [--chars N] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.forbidden_accuracy import load_checker

CASES: dict[str, str] = {
    "blame phrases": "这是我们系统的问题，服务器宕机了，后台挂掉了。",
    "blame pairs (系统…坏)": "我们行那个系统今天又有点坏，",
    "quoted (all excluded)": "客户说“系统崩了”，",
    "reported (all excluded)": "客户称系统故障后台挂了",
    "negated (all excluded)": "不是系统故障，",
    "numbers near a department": "技术部电话13700008412，",
    "media assertions": "记者您好，我行的规定是存款利率下调，",
    "no phrase at all": "您好，请问还有什么可以帮您？",
}
ORDINARY = "不好意思啊，您这边先别着急，我帮您看一下这个转账为什么没有到账。"


def timed(fn: object, runs: int) -> float:
    assert callable(fn)
    times = []
    for _ in range(runs):
        t0 = time.thread_time()
        fn()
        times.append(time.thread_time() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--chars", type=int, default=60_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    checker = load_checker()
    base = timed(lambda: [checker.check(ORDINARY, media=True) for _ in range(100)], 5) / 100
    print(f"ordinary line ({len(ORDINARY)} chars): {base * 1e6:.1f} µs")
    print(f"{'one line of ~' + format(args.chars, ',') + ' chars':34}{'ms':>9}{'µs/KB':>8}{'warnings':>10}")
    for name, sentence in CASES.items():
        line = (sentence * (args.chars // len(sentence) + 1))[: args.chars]
        hits = checker.check(line, media=True)
        t = timed(lambda line=line: checker.check(line, media=True), args.runs)
        print(f"{name:34}{t * 1e3:9.1f}{t * 1e6 / (len(line) / 1000):8.0f}{len(hits):10}")


if __name__ == "__main__":
    main()

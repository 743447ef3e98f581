"""Memory over a long day: thousands of reruns in one session, then hundreds of sessions opened and closed.

One session on the Draw page alternates strokes recorded from Chromium (bench/strokes.json, so that the
model reads every one) with Clear: 3,000 reruns by default, each followed by fetching the images it
shows, as a browser does (tests/streamlit_client.py). Then 200 sessions, one after the other, each open
the page, draw one digit and close. Memory is the RSS of every process serving the app (the server and
all its descendants, from /proc) added up. Goal: at most 50 MB more at the end than after the 100th rerun.

Streamlit keeps up to 128 closed sessions for two minutes, in case their browser reconnects: the end
figure holds them.

    python bench/soak.py [--reruns N] [--sessions N] [--app bare]
"""

import argparse
import asyncio
import tempfile
from pathlib import Path

from common import print_goal, served_app_env, write_result
from servers import APPS, app_server, assert_clean_logs, tree_rss_mb

from tests.streamlit_client import Session, recorded_strokes

GROWTH_GOAL_MB = 50
FIRST_SAMPLE = 100  # Reruns before the reference figure: the model and the caches are loaded by then.
SAMPLE_EVERY = 500  # Reruns, then sessions, between two printed figures.
SESSION_SAMPLE_EVERY = 50


class Soak:
    """A soak's memory figures on one server, printed as they are taken, and how many digits were read right."""

    def __init__(self, server):
        self.server = server
        self.rss_mb = {}
        self.digits = self.right = 0

    def note_memory(self, moment):
        self.rss_mb[moment] = round(tree_rss_mb(self.server.pid), 1)
        print(f"{moment:<28} {self.rss_mb[moment]:>8.1f} MB", flush=True)

    async def draw(self, session, stroke):
        """Draw the recorded `stroke` ((label, canvas value)) and note whether it was read right."""
        label, canvas_value = stroke
        run = await session.draw(canvas_value)
        self.digits += 1
        self.right += run.prediction == label
        await session.settle()


async def reruns(soak, strokes, count):
    """`count` reruns in one session: strokes of the recorded digits in turn, each followed by Clear."""
    session = Session(soak.server.url)
    await session.open()
    for rerun in range(1, count + 1):
        if rerun % 2:
            await soak.draw(session, strokes[rerun // 2 % len(strokes)])
        else:
            await session.clear()
        if rerun in (FIRST_SAMPLE, count) or rerun % SAMPLE_EVERY == 0:
            soak.note_memory(f"after rerun {rerun}")
    await session.close()
    return session.failed_fetches


async def visits(soak, strokes, count):
    """`count` sessions one after the other, each opening the page, drawing a digit and closing."""
    failed = []
    for visit in range(1, count + 1):
        session = Session(soak.server.url)
        await session.open()
        await soak.draw(session, strokes[visit % len(strokes)])
        await session.close()
        failed += session.failed_fetches
        if visit % SESSION_SAMPLE_EVERY == 0 or visit == count:
            soak.note_memory(f"after session {visit}")
    return failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reruns", type=int, default=3000, help="reruns in one session (strokes and Clears)")
    parser.add_argument("--sessions", type=int, default=200, help="sessions opened and closed afterwards")
    parser.add_argument("--app", choices=APPS, default="digitlab")
    args = parser.parse_args()
    if args.reruns < FIRST_SAMPLE:
        parser.error(f"--reruns must be at least {FIRST_SAMPLE}: the growth is measured from the {FIRST_SAMPLE}th")

    strokes = recorded_strokes()
    log_dir = Path(tempfile.mkdtemp(prefix="digitlab-bench-"))
    with app_server(args.app, log_dir / "server.log", served_app_env()) as server:
        soak = Soak(server)
        failed = asyncio.run(reruns(soak, strokes, args.reruns))
        failed += asyncio.run(visits(soak, strokes, args.sessions))
    assert_clean_logs(log_dir)

    growth = list(soak.rss_mb.values())[-1] - soak.rss_mb[f"after rerun {FIRST_SAMPLE}"]
    right = f"{soak.right} of {soak.digits}" if args.app == "digitlab" else "n/a (the bare app always shows 0)"
    print(f"\ndigits read right: {right}; failed fetches: {len(failed)}")
    print(f"growth from rerun {FIRST_SAMPLE} to the end: {growth:+.1f} MB")
    print_goal(f"growth ≤ {GROWTH_GOAL_MB} MB", growth <= GROWTH_GOAL_MB)
    write_result(
        f"soak-{args.app}",
        {
            "reruns": args.reruns,
            "sessions": args.sessions,
            "rss_mb": soak.rss_mb,
            "growth_mb": round(growth, 1),
            "digits": soak.digits,
            "right": soak.right if args.app == "digitlab" else None,
            "failed_fetches": len(failed),
        },
    )


if __name__ == "__main__":
    main()

"""FAQ matcher threshold: recall and precision on the labelled set, threshold by threshold.

Every message of ``tests/assistant_faq/`` is scored once against its shop's FAQ with the text model
(all-MiniLM-L6-v2 unless CHATSHOP_TEXT_MODEL says otherwise); then, per threshold, what the matcher
would answer: recall (answerable messages answered with their entry), wrong entries, messages no
entry answers that were answered anyway ("none answered": product questions among them), and
precision over all answers. The lowest threshold with no "none" answered is marked, with the
closest "none" messages and the weakest answerable ones. Last, leave one shop out: the threshold
chosen that way on four shops, tried on the fifth, says how well a threshold carries to an FAQ it
was not chosen on.

    .venv/bin/python bench/faq_threshold.py
    .venv/bin/python bench/faq_threshold.py --from 0.40 --to 0.70 --step 0.01
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chatshop.assistant.faq_match import FAQ_THRESHOLD, FaqMatcher  # noqa: E402
from chatshop.platform.config import load_settings  # noqa: E402
from chatshop.search.embedder import SentenceTransformersEmbedder  # noqa: E402
from tests.assistant_faq.labelled import Scored, at_threshold, figures, load, score  # noqa: E402


def lowest_clean(scored: list[Scored], thresholds: list[float]) -> float | None:
    """The lowest threshold at which no message that no entry answers is answered."""
    for threshold in thresholds:
        if figures(at_threshold(scored, threshold)).none_answered == 0:
            return threshold
    return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--from", dest="start", type=float, default=0.30)
    parser.add_argument("--to", dest="stop", type=float, default=0.80)
    parser.add_argument("--step", type=float, default=0.01)
    args = parser.parse_args()
    thresholds = [
        round(args.start + i * args.step, 4) for i in range(int((args.stop - args.start) / args.step) + 1)
    ]

    embedder = SentenceTransformersEmbedder(load_settings())
    matcher = FaqMatcher(embedder.embed_texts)
    labelled = load()
    started = time.perf_counter()
    scored = score(matcher, labelled)
    elapsed = time.perf_counter() - started
    info = embedder.model_info("text")
    every = figures(at_threshold(scored, -1.0))
    print(
        f"{len(scored)} messages to {len(labelled)} shops' FAQs ({every.answerable} answerable, "
        f"{every.unanswerable} not), model {info.name}, scored in {elapsed:.1f} s"
    )

    clean = lowest_clean(scored, thresholds)
    print(f"\n{'threshold':>9}  {'recall':>6}  {'precision':>9}  {'none answered':>13}  {'wrong entry':>11}")
    for threshold in thresholds:
        found = figures(at_threshold(scored, threshold))
        marks = []
        if threshold == clean:
            marks.append("lowest with no none answered")
        if abs(threshold - FAQ_THRESHOLD) < 1e-9:
            marks.append("FAQ_THRESHOLD")
        print(
            f"{threshold:>9.3f}  {found.recall:>6.3f}  {found.precision:>9.3f}  {found.none_answered:>13}  "
            f"{found.wrong_entry:>11}  {', '.join(marks)}"
        )

    nones = sorted((row for row in scored if row.case.expect is None), key=lambda row: -row.similarity)
    print("\nClosest messages that no entry answers:")
    for row in nones[:5]:
        print(f"  {row.similarity:.3f}  {row.case.text!r} -> {row.best} ({row.case.shop})")
    answerable = sorted(
        (row for row in scored if row.case.expect is not None), key=lambda row: row.similarity
    )
    print("Weakest answerable messages (their best entry; * where it is not theirs):")
    for row in answerable[:12]:
        wrong = "" if row.best == row.case.expect else f" *, theirs: {row.case.expect}"
        print(f"  {row.similarity:.3f}  {row.case.text!r} -> {row.best}{wrong} ({row.case.shop})")

    print("\nLeave one shop out: the lowest clean threshold of four shops, on the fifth")
    for held_out in labelled:
        rest = [row for row in scored if row.case.shop != held_out.shop]
        own = [row for row in scored if row.case.shop == held_out.shop]
        chosen = lowest_clean(rest, thresholds)
        if chosen is None:
            print(f"  {held_out.shop:>16}: no clean threshold in the range")
            continue
        found = figures(at_threshold(own, chosen))
        print(
            f"  {held_out.shop:>16}: threshold {chosen:.3f}, recall {found.recall:.3f}, "
            f"none answered {found.none_answered}/{found.unanswerable}, wrong entry {found.wrong_entry}"
        )


if __name__ == "__main__":
    main()

"""Print a markdown table of the input row and the last epoch of each training run's log.csv.

Usage: python scripts/summarize_runs.py RUN_DIR [RUN_DIR ...]
"""

import csv
import sys
from pathlib import Path

COLUMNS = ("snr", "pesq", "lsd", "lsd_high", "stoi")


def main(runs: list[str]) -> None:
    print("| run | epoch | " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * (len(COLUMNS) + 2))
    shown_input = False
    for run in map(Path, runs):
        with open(run / "log.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        if not shown_input:
            print("| decoded 32 kbps input | – | " + " | ".join(rows[0][c] for c in COLUMNS) + " |")
            shown_input = True
        last = rows[-1]
        print(f"| {run.name} | {last['epoch']} | " + " | ".join(last[c] for c in COLUMNS) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])

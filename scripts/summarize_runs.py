"""Print a markdown table of the input row and the last epoch of each training run's log.csv.

Usage: python scripts/summarize_runs.py RUN_DIR [RUN_DIR ...]
"""

import csv
import sys
from pathlib import Path

METRICS = ("snr", "pesq", "lsd", "lsd_high", "stoi")


def main(runs: list[str]) -> None:
    logs = []
    for run in map(Path, runs):
        with open(run / "log.csv", newline="") as handle:
            logs.append((run, list(csv.DictReader(handle))))
    # Zimtohrli, overall and per bitrate, where the runs scored it (the full-band model).
    columns = [*METRICS, *(c for c in logs[0][1][0] if c.startswith("zimtohrli"))]
    print("| run | epoch | " + " | ".join(columns) + " |")
    print("|" + "---|" * (len(columns) + 2))
    print("| decoded input | – | " + " | ".join(logs[0][1][0][c] for c in columns) + " |")
    for run, rows in logs:
        last = rows[-1]
        print(f"| {run.name} | {last['epoch']} | " + " | ".join(last[c] for c in columns) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])

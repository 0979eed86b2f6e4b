#!/usr/bin/env python3
"""Chapter 72's temperature sweep, for make results: runs the default configuration at five
temperatures and prints one row per temperature, copied from each run's own CSV files (retrieval.csv
and claims.csv); nothing is computed here but the selection of cells.

    book/tools/ch72_tau_sweep.py --out DIR     (results.sh appends --out; runs go to DIR/tau_T)
"""
import argparse
import csv
import os
import subprocess
import sys

TAUS = ["0.01", "0.02", "0.05", "0.1", "0.2"]
BIN = "build/tutorials/ch72_two_tower"


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def cell(claims, claim, world):
    """'mean [lo, hi], n = k, verdict' of one claims row, as the run printed it."""
    for r in claims:
        if r["claim"] == claim and r["world"] == world:
            verdict = r["verdict"]
            return r["this run: mean difference [90% interval], n"] + ", " + (
                f"**{verdict}**" if verdict in ("holds", "fails") else verdict)
    sys.exit(f"ch72_tau_sweep.py: no claim '{claim}' ({world}) in the run's claims.csv")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder for the five runs' files")
    out = ap.parse_args().out
    print("| tau | main: plain / streaming / oracle Recall@10 | streaming - plain, Recall@10 (main) "
          "| streaming - plain, Recall@50 (main) | streaming - plain, Recall@10 (control) "
          "| head share of top 10: plain / streaming / Bayes |")
    print("|---|---|---|---|---|---|")
    for tau in TAUS:
        d = os.path.join(out, "tau_" + tau)
        subprocess.run([BIN, "--tau", tau, "--out", d], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        ret = {r["method"]: r for r in rows(os.path.join(d, "retrieval.csv")) if r["world"] == "main"}
        claims = rows(os.path.join(d, "claims.csv"))
        plain, stream = ret["plain"], ret["corrected (streaming)"]
        oracle, bayes = ret["corrected (oracle q)"], ret["Bayes (true posterior)"]
        print(f"| {tau} | {plain['Recall@10']} / {stream['Recall@10']} / {oracle['Recall@10']} "
              f"| {cell(claims, 'corrected (streaming) beats plain, Recall@10', 'main')} "
              f"| {cell(claims, 'corrected (streaming) beats plain, Recall@50', 'main')} "
              f"| {cell(claims, 'corrected (streaming) beats plain, Recall@10', 'control')} "
              f"| {plain['head share of top 10']} / {stream['head share of top 10']} "
              f"/ {bayes['head share of top 10']} |")


if __name__ == "__main__":
    main()

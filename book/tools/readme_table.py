#!/usr/bin/env python3
"""The README's table of the 25 chapters, with each headline claim copied from its page.

    python3 book/tools/readme_table.py           rewrite the table in README.md (make readme-table)
    python3 book/tools/readme_table.py --check   exit 1 if README.md's table differs (make check-links)

The table sits between <!-- chapters:begin --> and <!-- chapters:end --> in README.md. For every
chapter, CHAPTERS names the claims-table row (claim and world, exactly as the page's spliced
results print them) that carries the paper's headline comparison; the interval and the verdict
are copied from that row as printed, never recomputed or rounded. After `make results` (or any
new run spliced into a page), `make readme-table` brings the README up to date. Standard library only.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BEGIN, END = "<!-- chapters:begin -->", "<!-- chapters:end -->"

# (page, paper, [(claim, world, what the README says)]): the first row is the headline; a second
# row adds another world where the page's prose leans on it.
CHAPTERS = [
    ("ch51_cold_start", "Billion-scale Commodity Embedding (EGES)", [
        ("link prediction AUC: EGES above GES", "main", "link-prediction AUC, EGES above GES")]),
    ("ch52_atrank", "ATRank, arXiv 1711.06632", [
        ("ATRank's AUC above GRU's", "main", "ATRank's AUC above GRU's")]),
    ("ch53_dupn", "DUPN, arXiv 1805.10727", [
        ("multi-task representation, frozen (RT), transfers better than single-task", "main",
         "the frozen multi-task representation (RT) transfers better than the single-task one")]),
    ("ch54_usersim", "GAN-built user simulator for RL, arXiv 1906.11462", [
        ("UserSim predicts feedback better than the supervised simulator (logloss, supervised - UserSim)", "main",
         "UserSim predicts feedback better than a supervised simulator (logloss)")]),
    ("ch55_dstn", "DSTN, arXiv 1906.03776", [
        ("DSTN-I's AUC above the DNN's (headline)", "main", "DSTN-I's AUC above the DNN's")]),
    ("ch56_deepmcp", "DeepMCP, arXiv 1906.04365", [
        ("DeepMCP's AUC above the DNN's (headline)", "main", "DeepMCP's AUC above the DNN's")]),
    ("ch57_exact_k", "Exact-K recommendation (GAttN), arXiv 1905.07089", [
        ("GAttN (full) above the greedy clique builder (headline)", "main",
         "GAttN above the greedy clique builder (true card reward)")]),
    ("ch58_transrec", "TransRec, arXiv 1707.02410", [
        ("TransRec's AUC above FPMC's (headline)", "main, 500 users", "TransRec's AUC above FPMC's, 500 users"),
        ("TransRec's AUC above FPMC's (headline)", "main, 1000 users", "1000 users"),
        ("TransRec's AUC above FPMC's (headline)", "main, 2000 users", "2000 users")]),
    ("ch59_fat_deepffm", "FAT-DeepFFM, arXiv 1905.06336", [
        ("FAT-DeepFFM's test AUC above DeepFFM's", "main", "FAT-DeepFFM's test AUC above DeepFFM's")]),
    ("ch60_transfm", "TransFM, RecSys 2018", [
        ("TransFM's AUC above FM's (no content)", "main", "TransFM's AUC above FM's (no content)")]),
    ("ch61_bert4rec", "BERT4Rec, arXiv 1904.06690", [
        ("BERT4Rec beats the left-to-right model (SASRec loss): NDCG@10 at 10 epochs", "main",
         "BERT4Rec's NDCG@10 above the left-to-right model's, 10 epochs")]),
    ("ch62_pfd", "Privileged Features Distillation, arXiv 1907.05171", [
        ("the PFD student's serving AUC above the labels-only student's", "main",
         "the PFD student's serving AUC above the labels-only student's")]),
    ("ch63_sdm", "SDM, arXiv 1909.00385", [
        ("the gated fusion's HR@10 above add's", "main", "the gated fusion's HR@10 above add's")]),
    ("ch64_autoint", "AutoInt, arXiv 1810.11921", [
        ("AutoInt L=2 beats FM (test AUC)", "3-field term std 2.5", "AutoInt (2 layers) beats FM, boosted 3-field term"),
        ("AutoInt L=2 beats FM (test AUC)", "3-field term std 0.8", "at the default term")]),
    ("ch65_calibration", "CTR calibration after negative down-sampling (worked example)", [
        ("LR: the correction lowers the ECE at w = 1/10", "main", "LR: the correction lowers the ECE at w = 1/10")]),
    ("ch66_esm2", "ESM2, arXiv 1910.07099", [
        ("ESM2's CVR AUC above ESMM's, mean over all purchase rates", "main", "ESM2's CVR AUC above ESMM's")]),
    ("ch67_coec", "COEC, 《计算广告》 (worked example)", [
        ("COEC with EC from (2) ranks ads closer to quality than raw CTR (tau gain)", "main",
         "COEC (expected CTR from a random bucket) ranks ads closer to quality than raw CTR (Kendall's tau)")]),
    ("ch68_mmoe", "MMoE, KDD 2018", [
        ("MMoE's test loss below Shared-Bottom's (log ratio)", "main", "MMoE's test loss below Shared-Bottom's (log ratio)")]),
    ("ch69_youtube_mtl", "YouTube multitask ranking, RecSys 2019", [
        ("shallow tower: serving score closer to true relevance (pairwise)", "main",
         "the shallow position tower brings the serving score closer to true relevance")]),
    ("ch70_prm", "PRM, arXiv 1904.06813", [
        ("PRM beats DLCM (clicks@4)", "main", "PRM beats DLCM (expected clicks@4)")]),
    ("ch71_pal", "PAL, RecSys 2019", [
        ("PAL's NDCG@10 above position as feature at its validation-chosen slot", "main, ranker bias 0",
         "PAL's NDCG@10 above position-as-a-feature served at its validation-chosen slot")]),
    ("ch72_two_tower", "Sampling-bias-corrected two-tower, RecSys 2019", [
        ("corrected (streaming) beats plain, Recall@10", "main",
         "the corrected (streaming) model beats the plain one, Recall@10")]),
    ("ch73_adversarial_debias", "Removing bias with adversarial networks, arXiv 1804.06909", [
        ("adversarial, lambda 3 ranks by true relevance better than position as a feature", "main",
         "adversarial (lambda 3) ranks by true relevance better than position as a feature")]),
    ("ch74_mind", "MIND, arXiv 1904.08030", [
        ("MIND (K = 4, p = 2) above mean pooling (YouTube DNN), Recall@20", "main",
         "MIND (K = 4) above mean pooling, Recall@20")]),
    ("ch75_csauc", "csAUC, arXiv 1904.10272", [
        ("tau(csAUC, revenue) above tau(AUC, revenue) over the models", "main",
         "tau(csAUC, revenue) above tau(AUC, revenue) over the models")]),
]
DATA = {"ch72_two_tower": " (`--data` for MovieLens)"}


def claims_row(page, claim, world):
    """'mean [lo, hi]' and the verdict as printed in the page's spliced claims table."""
    with open(os.path.join(ROOT, "book", page + ".md"), encoding="utf-8") as f:
        blocks = re.findall(r"<!-- results:begin[^>]*-->(.*?)<!-- results:end -->", f.read(), re.S)
    for line in (l for b in blocks for l in b.split("\n") if l.startswith("|")):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and cells[0] == claim and cells[1] == world:
            return re.sub(r",\s*n = \d+$", "", cells[3]), cells[-1]
    sys.exit("readme_table: book/%s.md has no claims row '%s' in world '%s' (update CHAPTERS in %s)"
             % (page, claim, world, os.path.relpath(__file__, ROOT)))


def table():
    lines = ["| ch | paper | command | headline claim: mean difference [90% interval], verdict |",
             "|---|---|---|---|"]
    for page, paper, rows in CHAPTERS:
        said = []
        for i, (claim, world, text) in enumerate(rows):
            interval, verdict = claims_row(page, claim, world)
            said.append("%s: %s, %s" % (text, interval, verdict))
        result = said[0] + (" (%s)" % "; ".join(said[1:]) if len(said) > 1 else "")
        lines.append("| %s | [%s](book/%s.md) | `build/tutorials/%s`%s | %s |" % (
            page[2:4], paper, page, page, DATA.get(page, ""), result))
    return "\n".join(lines) + "\n"


def main():
    path = os.path.join(ROOT, "README.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        sys.exit("readme_table: README.md has no %s ... %s markers" % (BEGIN, END))
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = head + BEGIN + "\n" + table() + END + tail
    if sys.argv[1:] == ["--check"]:
        if new != text:
            sys.exit("readme_table: README.md's chapter table differs from the pages' claims tables "
                     "(run make readme-table)")
        print("readme-table: README.md's chapter table matches the %d pages" % len(CHAPTERS))
    elif sys.argv[1:]:
        sys.exit("usage: readme_table.py [--check]")
    elif new != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
        print("readme-table: README.md updated")


if __name__ == "__main__":
    main()

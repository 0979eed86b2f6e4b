#!/usr/bin/env python3
"""Checks every relative link and image in the book's Markdown (and the README) resolves.

    python3 book/tools/check_links.py [FILE.md ...]    (default: README.md book/*.md; make check-links)

For each inline link or image `[text](target)` / `![alt](target)`, reference definition
`[label]: target` and HTML `href=` / `src=` outside code: a target with a scheme (https:, mailto:)
is skipped; any other target must name an existing file or directory, relative to the page; and a
`#anchor` on a Markdown page must name one of its headings, with GitHub's rule for heading ids
(the one pandoc's gfm_auto_identifiers follows too, so the HTML book keeps the anchors) or an
explicit id=/name= in the page's HTML. Prints one line per broken target (file:line: target:
why) and exits 1 if there was one. Also: a table row that links a chapter page and quotes one of its
claims as `mean [lo, hi], verdict` (the README's chapter table) must match a row of the claims
table spliced into that page, so the quote cannot drift from the run. Standard library only.
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
TEXT = r"(?:[^\[\]]|\[[^\]]*\])*"  # link text: brackets may nest once ([![alt](img)](link))
INLINE = re.compile(r"!?\[(" + TEXT + r")\]\(\s*(<[^>]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
REFDEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(\S+)")
HTML_ATTR = re.compile(r"""<[a-zA-Z][^>]*?\s(?:href|src)\s*=\s*["']([^"']*)["']""")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
HTML_ID = re.compile(r"""\s(?:id|name)\s*=\s*["']([^"']+)["']""")


def code_free_lines(text, inline_code=False):
    """The page's lines with fenced code blocks, HTML comments and (unless inline_code) inline code
    blanked out."""
    text = re.sub(r"<!--.*?-->", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    out, fence = [], None
    for line in text.split("\n"):
        m = FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line.strip()[len(m.group(1)):].strip():
                fence = None
            out.append("")
            continue
        if m:
            fence = m.group(1)
            out.append("")
            continue
        if inline_code:
            out.append(line)
            continue
        # inline code: a run of n backticks up to the next run of exactly n backticks
        out.append(re.sub(r"(`+)(.+?)(?<!`)\1(?!`)", lambda c: " " * len(c.group(0)), line))
    return out


def slug(heading):
    """GitHub's id for a heading: the rendered text, lower-cased, punctuation dropped, spaces to -."""
    text = re.sub(r"!?\[(" + TEXT + r")\]\([^)]*\)", r"\1", heading)  # links and images -> text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    text = re.sub(r"(?<!\w)(_{1,3})(\S(?:.*?\S)?)\1(?!\w)", r"\2", text.replace("*", ""))  # emphasis
    text = text.strip().lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


anchor_cache = {}


def anchors(path):
    if path not in anchor_cache:
        with open(path, encoding="utf-8") as f:
            lines = code_free_lines(f.read(), inline_code=True)
        ids, seen = set(), {}
        for line in lines:
            m = HEADING.match(line)
            if m:
                s = slug(m.group(2))
                n = seen.get(s, 0)
                seen[s] = n + 1
                ids.add(s if n == 0 else "%s-%d" % (s, n))
            ids.update(HTML_ID.findall(line))
        anchor_cache[path] = ids
    return anchor_cache[path]


def targets(path):
    with open(path, encoding="utf-8") as f:
        lines = code_free_lines(f.read())
    for number, line in enumerate(lines, 1):
        for m in INLINE.finditer(line):
            yield number, m.group(2).strip("<>")
            for inner in INLINE.finditer(m.group(1)):  # an image inside a link's text
                yield number, inner.group(2).strip("<>")
        m = REFDEF.match(line)  # a definition cannot interrupt a paragraph
        if m and (number == 1 or not lines[number - 2].strip() or REFDEF.match(lines[number - 2])):
            yield number, m.group(1).strip("<>")
        for m in HTML_ATTR.finditer(line):
            yield number, m.group(1)


def check(path):
    problems = []
    for number, target in targets(path):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
            continue  # https:, mailto:, ...: not checked here
        where, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), where)) if where else path
        why = None
        if not os.path.exists(resolved):
            why = "no such file"
        elif anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
            why = "no heading with id '%s' in %s" % (anchor, os.path.relpath(resolved, ROOT))
        if why:
            problems.append("%s:%d: %s: %s" % (os.path.relpath(path, ROOT), number, target, why))
    return problems


QUOTE = re.compile(r"([+-]?\d+\.\d+) \[([+-]?\d+\.\d+), ([+-]?\d+\.\d+)\],? \**(holds|fails|inconclusive)\b")


def check_quotes(path):
    """A table row of path that links a chapter page and quotes `mean [lo, hi], verdict` must find
    that interval, with that verdict, in a claims-table row of the page's spliced results."""
    problems = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for number, line in enumerate(lines, 1):
        page = re.search(r"\]\(([^)#]*ch\d\d_[^)#]*\.md)\)", line)
        if not line.startswith("|") or not page:
            continue
        target = os.path.normpath(os.path.join(os.path.dirname(path), page.group(1)))
        if not os.path.exists(target):
            continue  # reported as a broken link
        with open(target, encoding="utf-8") as f:
            results = re.findall(r"<!-- results:begin[^>]*-->(.*?)<!-- results:end -->", f.read(), re.S)
        rows = [r for block in results for r in block.split("\n") if r.startswith("|")]
        for m in QUOTE.finditer(line):
            interval = "%s [%s, %s]" % m.group(1, 2, 3)
            if not any(interval in r and r.rstrip(" |").split("|")[-1].strip(" *") == m.group(4) for r in rows):
                problems.append("%s:%d: '%s, %s' is not in a claims row of %s's results" % (
                    os.path.relpath(path, ROOT), number, interval, m.group(4), os.path.relpath(target, ROOT)))
    return problems


def main():
    files = sys.argv[1:] or [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "book", "*.md")))
    problems, links = [], 0
    for path in files:
        links += sum(1 for t in targets(path) if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", t[1]))
        problems += check(os.path.abspath(path)) + check_quotes(os.path.abspath(path))
    for p in problems:
        print(p)
    print("check-links: %d files, %d relative links and images, %d problems" % (len(files), links, len(problems)))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

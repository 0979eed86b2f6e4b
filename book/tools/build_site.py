#!/usr/bin/env python3
"""Renders the book (book/*.md, and the project README) to a static HTML site with pandoc.

    python3 book/tools/build_site.py OUT_DIR        (make book: OUT_DIR = build/book)

One page per Markdown file: book/README.md becomes index.html (the table of contents), README.md
becomes project.html, every other page keeps its name with .html. The reading order (previous /
next links on every page) is: the index, the demo, the engine chapters 01-10, the paper chapters
51-75, the course plan and reading paths, then any other page, then the project README.
Math is rendered by pandoc as MathML (nothing is fetched when a page is viewed), code is
highlighted by pandoc, book/img is copied beside the pages. Links between Markdown pages are
rewritten to the pages' .html names; links to other files of the repository (sources, scripts)
become relative paths from OUT_DIR into the checkout, so the site works opened from the file system.
Standard library only; needs the pandoc executable (Debian: pandoc).
"""
import concurrent.futures
import html
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BOOK = os.path.dirname(HERE)
ROOT = os.path.dirname(BOOK)
READER = "gfm+tex_math_dollars"  # GitHub's Markdown (what the pages are written for), with $math$


def page_order():
    """(source path relative to the repository, output name, part) in reading order."""
    names = sorted(f for f in os.listdir(BOOK) if f.endswith(".md"))
    engine = [f for f in names if re.match(r"\d\d_", f)]
    demo = [f for f in names if f.startswith("demo")]
    papers = [f for f in names if re.match(r"ch\d\d_", f)]
    guides = [f for f in ("COURSE.md", "READING_PATHS.md") if f in names]
    known = set(engine + demo + papers + guides + ["README.md"])
    others = [f for f in names if f not in known]
    pages = [("book/README.md", "index.html", "Contents")]
    for part, files in (("Part I: the engine", demo + engine), ("Part II: the papers", papers),
                        ("For teachers and learners", guides + others)):
        pages += [("book/" + f, f[:-3] + ".html", part) for f in files]
    pages.append(("README.md", "project.html", "The project"))
    return pages


def pandoc(args, stdin):
    done = subprocess.run(["pandoc"] + args, input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit("build_site: pandoc %s failed:\n%s" % (" ".join(args), done.stderr))
    if done.stderr.strip():
        sys.stderr.write(done.stderr)
    return done.stdout


def walk(node, visit):
    """Calls visit on every element (dict with 't') of a pandoc JSON AST, depth first."""
    if isinstance(node, dict):
        if "t" in node:
            visit(node)
        for v in node.values():
            walk(v, visit)
    elif isinstance(node, list):
        for v in node:
            walk(v, visit)


def stringify(node):
    out = []

    def visit(n):
        if n["t"] == "Str":
            out.append(n["c"])
        elif n["t"] in ("Space", "SoftBreak", "LineBreak"):
            out.append(" ")
        elif n["t"] in ("Code", "Math"):
            out.append(n["c"][1])
    walk(node, visit)
    return "".join(out)


def rewrite_target(target, src, out_dir, html_of):
    """A link target in src (repository-relative) as seen from the page in out_dir."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("#") or not target:
        return target  # a URL with a scheme, an anchor on the same page
    path, hash_, anchor = target.partition("#")
    repo_path = os.path.normpath(os.path.join(os.path.dirname(src), path))
    if repo_path in html_of:
        return html_of[repo_path] + hash_ + anchor
    if repo_path.startswith("book/img/"):
        return repo_path[len("book/"):] + hash_ + anchor  # copied beside the pages
    rel = os.path.relpath(os.path.join(ROOT, repo_path), out_dir)
    return rel.replace(os.sep, "/") + hash_ + anchor


def render(src, out_name, out_dir, html_of, nav, template):
    with open(os.path.join(ROOT, src), encoding="utf-8") as f:
        text = f.read()
    ast = json.loads(pandoc(["-f", READER, "-t", "json"], text))
    title = []

    def visit(n):
        if n["t"] in ("Link", "Image"):
            target = n["c"][2]
            target[0] = rewrite_target(target[0], src, out_dir, html_of)
        elif n["t"] == "Header" and n["c"][0] == 1 and not title:
            title.append(stringify(n["c"][2]))
    walk(ast, visit)
    args = ["-f", "json", "-t", "html5", "--standalone", "--template", template, "--mathml",
            "--highlight-style", "pygments", "--toc", "--toc-depth", "2",
            "--metadata", "pagetitle=" + (title[0] if title else out_name[:-5])]
    for key, value in nav.items():
        args += ["-V", "%s=%s" % (key, value)]
    page = pandoc(args, json.dumps(ast))
    with open(os.path.join(out_dir, out_name), "w", encoding="utf-8") as f:
        f.write(page)
    return title[0] if title else out_name[:-5]


def titles(pages):
    """The first level-1 heading of every page (for the previous / next links)."""
    result = {}
    for src, out_name, _ in pages:
        with open(os.path.join(ROOT, src), encoding="utf-8") as f:
            m = re.search(r"^# +(.+?) *#*$", f.read(), re.M)
        result[out_name] = m.group(1) if m else out_name[:-5]
    return result


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: build_site.py OUT_DIR")
    if shutil.which("pandoc") is None:
        sys.exit("build_site: pandoc is missing (Debian: apt-get install pandoc)")
    out_dir = os.path.abspath(sys.argv[1])
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    shutil.copytree(os.path.join(BOOK, "img"), os.path.join(out_dir, "img"))
    shutil.copy(os.path.join(HERE, "book.css"), out_dir)
    pages = page_order()
    html_of = {src: out for src, out, _ in pages}
    names = titles(pages)
    jobs = []
    for i, (src, out_name, part) in enumerate(pages):
        nav = {"part": html.escape(part)}
        if i > 0:
            nav["prev"], nav["prevtitle"] = pages[i - 1][1], html.escape(names[pages[i - 1][1]])
        if i + 1 < len(pages):
            nav["next"], nav["nexttitle"] = pages[i + 1][1], html.escape(names[pages[i + 1][1]])
        jobs.append((src, out_name, out_dir, html_of, nav, os.path.join(HERE, "page.html")))
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:  # two pandoc processes
        for future in [pool.submit(render, *job) for job in jobs]:
            future.result()
    print("book: %d pages in %s (open %s)" % (len(pages), os.path.relpath(out_dir),
                                                os.path.join(os.path.relpath(out_dir), "index.html")))


if __name__ == "__main__":
    main()

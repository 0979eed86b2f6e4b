#!/usr/bin/env python3
"""Opens every page of the HTML book in headless Chromium and checks what a reader would see.

    python3 book/tools/check_site.py SITE_DIR       (make check-book: SITE_DIR = build/book)

Per page: no console error (Chromium's log at level SEVERE), every <img> loaded (naturalWidth > 0),
every link to a local file resolves (and its #anchor, for a page of the site, names an element),
and no raw TeX shown as text outside code (`$...$`, `$$`, or a command such as `\\frac`): pandoc
leaves TeX it cannot convert to MathML as text. Prints one line per failure and a summary;
exit 1 if anything failed. Needs Debian's chromium, chromium-driver and python3-selenium.
"""
import glob
import os
import re
import sys
import tempfile
import time
import urllib.parse

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
except ImportError:
    sys.exit("check_site: python3-selenium is missing (Debian: apt-get install chromium "
             "chromium-driver python3-selenium)")

# What the page shows: text outside code, pre, math, script and style; the images; the links.
PAGE_JS = r"""
const skip = new Set(['CODE', 'PRE', 'SCRIPT', 'STYLE', 'math', 'MATH', 'TITLE']);
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const texts = [];
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  let p = n.parentNode, hidden = false;
  for (; p && p !== document.body; p = p.parentNode)
    if (skip.has(p.nodeName) || (p.namespaceURI || '').includes('MathML')) { hidden = true; break; }
  if (!hidden) texts.push(n.nodeValue);
}
return {
  text: texts.join(''),
  images: Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth]),
  links: Array.from(document.querySelectorAll('a[href]')).map(a => [a.getAttribute('href'), a.href]),
  ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
};
"""
RAW_TEX = re.compile(r"\$\$|\$[^\s$][^$\n]*?[^\s$\\]\$|\$[^\s$]\$|\\(frac|sum|prod|mathrm|mathbb|"
                     r"text|hat|bar|log|exp|sigma|alpha|beta|gamma|lambda|mid|cdot|qquad|left|right)\b")


def start_browser(profile):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--user-data-dir=" + profile):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def ids_of(path, cache, driver_ids=None):
    if path not in cache:
        with open(path, encoding="utf-8") as f:
            cache[path] = set(re.findall(r'\sid="([^"]*)"', f.read()))
    return cache[path]


def check_page(driver, page, id_cache):
    problems = []
    driver.get("file://" + urllib.parse.quote(page))
    for _ in range(100):  # file:// pages load synchronously, but wait for images all the same
        if driver.execute_script("return document.readyState") == "complete":
            break
        time.sleep(0.05)
    seen = driver.execute_script(PAGE_JS)
    for entry in driver.get_log("browser"):
        if entry.get("level") == "SEVERE":
            problems.append("console error: " + entry.get("message", ""))
    for src, complete, width in seen["images"]:
        if not complete or not width:
            problems.append("image not loaded: " + str(src))
    id_cache[page] = set(seen["ids"])
    for href, resolved in seen["links"]:
        url = urllib.parse.urlparse(resolved)
        if url.scheme != "file":
            continue  # the book links to the web in a few places; those are not checked here
        target = urllib.parse.unquote(url.path)
        if not os.path.exists(target):
            problems.append("broken link: " + href)
        elif url.fragment and target.endswith(".html"):
            if urllib.parse.unquote(url.fragment) not in ids_of(target, id_cache):
                problems.append("broken anchor: " + href)
    for m in RAW_TEX.finditer(seen["text"]):
        s = max(0, m.start() - 30)
        problems.append("raw TeX as text: ..." + seen["text"][s:m.end() + 30].replace("\n", " ") + "...")
    return problems


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check_site.py SITE_DIR")
    site = os.path.abspath(sys.argv[1])
    pages = sorted(glob.glob(os.path.join(site, "*.html")))
    if not pages:
        sys.exit("check_site: no pages in %s (run make book first)" % site)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="minirec-chromium-") as profile:
        driver = start_browser(profile)
        try:
            id_cache = {}
            for page in pages:
                for p in check_page(driver, page, id_cache):
                    print("%s: %s" % (os.path.basename(page), p))
                    failed += 1
        finally:
            driver.quit()
    print("check-book: %d pages opened in Chromium, %d problems" % (len(pages), failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

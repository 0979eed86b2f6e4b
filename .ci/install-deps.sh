#!/bin/sh
# Installs the Debian packages named on the command line, as root or through sudo; when neither
# is possible, stops with one line naming what is missing. The Makefile calls it for its optional
# packages, each only when missing: doctest-dev (make test), pandoc and python3 (make book,
# make check-links), chromium, chromium-driver and python3-selenium (make check-book).
set -e
[ "$#" -gt 0 ] || exit 0
if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
else
    echo "minirec: missing Debian package(s): $* -- install with: sudo apt-get install $*" >&2
    exit 1
fi

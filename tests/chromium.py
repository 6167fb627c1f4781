"""Debian's headless Chromium as the browser tests start it (the report page and the search
page): the flags keep it off this machine's closed network (background fetches, component
updates and sync are refused many at a time) and let it run as root."""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

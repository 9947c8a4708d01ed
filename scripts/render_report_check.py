"""Open a csdialog HTML report in headless Chromium: check it renders, take a screenshot.

Usage:
    python scripts/render_report_check.py report.html screenshot.png [--window-size 1280,2400]

Two Chromium runs, both offline (every host name resolves to nothing, background networking
off, a throw-away profile):

1. ``--dump-dom`` with logging to stderr: the page must load, the DOM must hold every
   report section and its heading, no ``<script>``, ``<link>`` or reference to anything
   outside the file (``http(s)://`` in ``src``/``href``/``url()``) may appear, and the log
   must show no console message, JavaScript error or failed network request;
2. ``--screenshot``: the PNG must be written and be a real PNG of the window size.

Exit codes: 0 all checks passed; 1 the page failed a check or Chromium failed to render it;
2 Chromium is not installed or the arguments are wrong. Each failure prints what was
expected and what was found.
"""

from __future__ import annotations

import argparse
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from html import unescape
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 180
# Log lines about the machine rather than the page (no D-Bus, no GPU in a container, the
# Debian wrapper script's own shell warning): counted, not shown one by one.
_ENV_NOISE = re.compile(
    r"dbus|D-Bus|vaapi|drmGetDevices|bluez|Floss|sandbox_linux|idle_linux|UPower|"
    r"unexpected operator|gpu_init|viz_main_impl|bytes written to file"
)
# Console messages, uncaught errors and failed loads as Chromium logs them to stderr.
_LOG_PROBLEMS = re.compile(
    r"CONSOLE[(:]\d+|Uncaught |net::ERR_(?!ABORTED)|Failed to load resource|Refused to load",
    re.IGNORECASE,
)


def _sections() -> list[tuple[str, str]]:
    """(anchor id, English heading) of every section the report should have."""
    try:
        from csdialog.report import REPORT_SECTIONS
    except ImportError:  # run outside the project's environment: same list, by hand
        return [
            ("summary", "Run summary"), ("viewpoints", "Hot viewpoints"),
            ("emotions", "Customer emotions"), ("sarcasm", "Sarcasm examples"),
            ("unanswered", "Unanswered questions"), ("complaint-risk", "Complaint risk"),
            ("repeat-contacts", "Repeat contacts"), ("inspection", "Inspection scores"),
        ]
    return [(anchor, en) for anchor, en, _ in REPORT_SECTIONS]


def find_chromium(explicit: str | None) -> str | None:
    if explicit:
        return explicit if Path(explicit).exists() or shutil.which(explicit) else None
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _base_args(chromium: str, profile: str) -> list[str]:
    return [
        chromium, "--headless", "--no-sandbox", "--disable-gpu",
        f"--user-data-dir={profile}", "--no-first-run", "--no-default-browser-check",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--disable-dev-shm-usage",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing outside the file can load
    ]


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)


def _png_size(path: Path) -> tuple[int, int] | None:
    head = path.read_bytes()[:24]
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def check(report: Path, png: Path, window: str, chromium: str) -> list[str]:
    """Run both renders; return the problems found (empty when all is well)."""
    problems: list[str] = []
    url = report.resolve().as_uri()
    version = _run([chromium, "--version"]).stdout.strip()
    print(f"chromium: {chromium} ({version})")
    with tempfile.TemporaryDirectory(prefix="csdialog-chromium-") as profile:
        dom_run = _run([*_base_args(chromium, profile), "--enable-logging=stderr", "--v=0",
                        "--dump-dom", url])
        log_lines = [line for line in dom_run.stderr.splitlines() if line.strip()]
        page_lines = [line for line in log_lines if not _ENV_NOISE.search(line)]
        print(f"dump-dom: exit code {dom_run.returncode}, DOM {len(dom_run.stdout):,} characters; "
              f"{len(log_lines)} log lines, {len(log_lines) - len(page_lines)} of them about the "
              f"machine (no D-Bus/GPU), {len(page_lines)} others")
        for line in page_lines:
            print(f"  log: {line}")
        if dom_run.returncode != 0:
            problems.append(f"chromium --dump-dom exited with {dom_run.returncode}")
        dom = dom_run.stdout
        if "<body" not in dom:
            problems.append("the dumped DOM has no <body>: the page did not load")
        headings = [unescape(re.sub(r"<[^>]+>", "", h)).strip()
                    for h in re.findall(r"<h2>(.*?)</h2>", dom, flags=re.S)]
        for anchor, heading in _sections():
            if f'id="{anchor}"' not in dom:
                problems.append(f"section #{anchor} is missing from the rendered DOM")
            if not any(h.startswith(heading) for h in headings):
                problems.append(f"heading {heading!r} is missing; headings found: {headings}")
        if "<script" in dom.lower():
            problems.append("the rendered DOM contains a <script> element; the report must have none")
        external = sorted(set(re.findall(
            r"""(?:src|href|xlink:href)\s*=\s*["']?\s*((?:https?:|ftp:|//)[^"'\s>]*)""", dom, flags=re.I)))
        external += sorted(set(re.findall(r"url\(\s*['\"]?((?:https?:|//)[^)'\"]*)", dom, flags=re.I)))
        problems.extend(f"the page refers to an external resource: {ref}" for ref in external)
        if re.search(r"<link\b", dom, flags=re.I):
            problems.append("the rendered DOM contains a <link> element; styles must be inline")
        bad = [line for line in log_lines if _LOG_PROBLEMS.search(line)]
        problems.extend(f"chromium log reports a problem: {line}" for line in bad)
        print(f"headings: {headings}")

        png.parent.mkdir(parents=True, exist_ok=True)
        if png.exists():
            png.unlink()
        shot = _run([*_base_args(chromium, profile), "--hide-scrollbars",
                     f"--window-size={window}", f"--screenshot={png.resolve()}", url])
        shot_lines = [line for line in (shot.stdout + shot.stderr).splitlines()
                      if line.strip() and not _ENV_NOISE.search(line)]
        written = re.search(r"\d+ bytes written to file \S+", shot.stdout + shot.stderr)
        print(f"screenshot: exit code {shot.returncode}; "
              f"{written.group() if written else 'chromium did not report writing a file'}")
        for line in shot_lines:
            print(f"  log: {line}")
        if shot.returncode != 0:
            problems.append(f"chromium --screenshot exited with {shot.returncode}: {shot.stderr.strip()}")
    if not png.exists() or png.stat().st_size == 0:
        problems.append(f"no screenshot was written to {png}")
    else:
        size = _png_size(png)
        expected = tuple(int(v) for v in window.split(","))
        if size is None:
            problems.append(f"{png} is not a PNG file")
        elif size != expected:
            problems.append(f"screenshot is {size[0]}x{size[1]}, expected {expected[0]}x{expected[1]}")
        else:
            print(f"png: {png} ({size[0]}x{size[1]}, {png.stat().st_size:,} bytes)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="the report .html file")
    parser.add_argument("png", type=Path, help="where to write the screenshot (.png)")
    parser.add_argument("--window-size", default="1280,2400", help="WIDTH,HEIGHT in pixels")
    parser.add_argument("--chromium", default=None, help="path of the Chromium binary")
    args = parser.parse_args(argv)

    if not re.fullmatch(r"\d+,\d+", args.window_size):
        print(f"error: --window-size must be WIDTH,HEIGHT such as 1280,2400, got "
              f"{args.window_size!r}", file=sys.stderr)
        return 2
    if not args.report.is_file():
        print(f"error: report {args.report} does not exist; render one first "
              "(csdialog.report.write_report)", file=sys.stderr)
        return 2
    chromium = find_chromium(args.chromium)
    if chromium is None:
        wanted = args.chromium or " / ".join(CANDIDATES)
        print(f"error: Chromium not found (looked for {wanted}); install it, e.g. "
              "`apt-get install -y chromium`, or pass --chromium PATH", file=sys.stderr)
        return 2
    try:
        problems = check(args.report, args.png, args.window_size, chromium)
    except subprocess.TimeoutExpired as exc:
        print(f"error: chromium did not finish within {TIMEOUT_S} s ({exc.cmd[0]})", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: could not run {chromium}: {exc}", file=sys.stderr)
        return 2
    if problems:
        print(f"FAILED: {len(problems)} problem(s) with {args.report}:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"OK: {args.report} renders offline with all {len(_sections())} sections; "
          f"screenshot at {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

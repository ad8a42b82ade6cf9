#!/usr/bin/env python3
"""End-to-end check of the HTML written by `contraband report`, in a real browser.

The C tests can check the report's markup but not that a browser really draws it. This
opens the report in headless Chromium through chromedriver (W3C WebDriver over HTTP,
standard library only), checks that it loads, has the expected charts, that each chart's
inline SVG has a real size and draws something, that nothing is logged as an error and
nothing is fetched over the network, and saves a full-page screenshot for a human.

Usage: report_e2e.py REPORT.html SCREENSHOT.png [--expect-chart ID ...] [--min-charts N]
Exit: 0 all checks pass; 1 a check failed (one line each on stderr); 2 usage/setup error.
"""
import argparse, base64, contextlib, json, os, pathlib, shutil, signal, socket, subprocess, sys
import tempfile, time, urllib.error, urllib.request

CHROMEDRIVER, CHROMIUM = "/usr/bin/chromedriver", "/usr/bin/chromium"
LOAD_TIMEOUT, READY_TIMEOUT, MAX_SHOT_HEIGHT, WIDTH = 30.0, 20.0, 12000, 1280

# Per chart: id, svg size, and whether data were drawn. gnuplot puts each plotted series in
# its own group (<g id="...gnuplot_plot_N">, with its key sample), apart from axes and
# borders, so a chart counts as drawn only if such a group holds a painted shape and spans
# more than a key sample would (60 user units: the report's SVGs are 900 wide).
# Shapes inside <defs>/<clipPath>/... are templates, not drawn; unpainted shapes are ignored.
CHARTS_JS = """
const SHAPES = 'path,polyline,polygon,line,rect,circle,ellipse';
const HIDDEN = 'defs,clipPath,mask,marker,pattern,symbol';
function drawn(el) {
  if (el.closest(HIDDEN)) return false;
  const cs = getComputedStyle(el);
  if (cs.display === 'none' || cs.visibility === 'hidden') return false;
  if (cs.fill === 'none' && cs.stroke === 'none') return false;
  const b = el.getBBox();
  return b.width > 0 || b.height > 0;
}
return Array.from(document.querySelectorAll('figure.chart')).map(fig => {
  const svg = fig.querySelector('svg');
  const r = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  const groups = svg ? Array.from(svg.querySelectorAll('g[id*="gnuplot_plot_"]')) : [];
  const plotted = groups.filter(g => Array.from(g.querySelectorAll(SHAPES)).some(drawn))
    .some(g => { const b = g.getBBox(); return Math.max(b.width, b.height) > 60; });
  return {id: fig.id, hasSvg: !!svg, width: r.width, height: r.height, drawn: plotted};
});"""
NETWORK_JS = """return performance.getEntriesByType('resource').map(e => e.name)
  .filter(n => !n.startsWith('file:') && !n.startsWith('data:'));"""
HEIGHT_JS = """return Math.max(document.documentElement.scrollHeight,
                document.body ? document.body.scrollHeight : 0);"""


class SetupError(Exception):
    """Something other than the report is wrong (exit 2)."""


class WebDriver:
    """Minimal W3C WebDriver client: one chromedriver URL, at most one session."""

    def __init__(self, base):
        self.base, self.sid = base, None

    def call(self, method, path, body=None, timeout=60):
        """One request; returns the 'value' of the JSON answer. {sid} is the session."""
        url = self.base + path.format(sid=self.sid)
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.load(resp).get("value")
        except urllib.error.HTTPError as e:
            value = json.loads(e.read() or b"{}").get("value") or {}
            raise SetupError(f"WebDriver {method} {path}: {value.get('error', e.code)}: "
                             f"{str(value.get('message', ''))[:300]}") from None

    def js(self, script):
        return self.call("POST", "/session/{sid}/execute/sync", {"script": script, "args": []})


def parse_args():
    p = argparse.ArgumentParser(description="Check a contraband HTML report in headless Chromium.")
    p.add_argument("report", help="the report HTML file")
    p.add_argument("screenshot", help="where to write the full-page PNG")
    p.add_argument("--expect-chart", action="append", default=[], metavar="ID",
                   help="id of a figure.chart that must be present (repeatable)")
    p.add_argument("--min-charts", type=int, default=1, metavar="N",
                   help="minimum number of figure.chart elements (default 1)")
    return p.parse_args()  # argparse itself exits 2 on a usage error


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_driver(port, log_path):
    for binary, package in ((CHROMEDRIVER, "chromium-driver"), (CHROMIUM, "chromium")):
        if not os.access(binary, os.X_OK):
            raise SetupError(f"{binary} not found (install Debian package {package})")
    with open(log_path, "wb") as log:  # own process group: browser is cleaned up with it
        return subprocess.Popen([CHROMEDRIVER, f"--port={port}"], stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def wait_ready(wd, driver):
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if driver.poll() is not None:
            raise SetupError(f"chromedriver exited with status {driver.returncode}")
        with contextlib.suppress(OSError, SetupError):
            if (wd.call("GET", "/status", timeout=2) or {}).get("ready"):
                return
        time.sleep(0.2)
    raise SetupError(f"chromedriver not ready after {READY_TIMEOUT:.0f} s")


def new_session(wd, profile_dir):
    args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--window-size={WIDTH},900", f"--user-data-dir={profile_dir}"]
    caps = {"browserName": "chrome", "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args}}
    wd.sid = wd.call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})["sessionId"]


def load_page(wd, url):
    """Check 1: navigate and wait for readyState 'complete'. Returns an error or None."""
    wd.call("POST", "/session/{sid}/timeouts", {"pageLoad": int(LOAD_TIMEOUT * 1000)})
    deadline = time.monotonic() + LOAD_TIMEOUT
    try:
        wd.call("POST", "/session/{sid}/url", {"url": url}, timeout=LOAD_TIMEOUT + 10)
    except SetupError as e:
        return f"page load: {e}"
    while time.monotonic() < deadline:
        if wd.js("return document.readyState;") == "complete":
            return None
        time.sleep(0.2)
    return f"page load: document.readyState not 'complete' after {LOAD_TIMEOUT:.0f} s"


def check_chart_set(charts, expected, min_charts):
    """Check 2: enough charts, and every expected id present."""
    errors, ids = [], {c["id"] for c in charts}
    if len(charts) < min_charts:
        errors.append(f"charts: found {len(charts)} figure.chart, expected at least {min_charts}")
    return errors + [f"charts: expected chart id '{i}' not found" for i in expected if i not in ids]


def chart_problem(c):
    """Check 3 for one chart: a sizeable svg that draws something. Returns a problem or None."""
    if not c["hasSvg"]:
        return "no <svg> inside the figure"
    if c["width"] <= 50 or c["height"] <= 50:
        return f"svg is {c['width']:.0f}x{c['height']:.0f} px, expected both > 50"
    return None if c["drawn"] else "svg plots no data (no gnuplot plot group with a drawn shape)"


def check_chart_content(charts):
    problems = ((c["id"] or "(figure.chart without id)", chart_problem(c)) for c in charts)
    return [f"chart {name}: {problem}" for name, problem in problems if problem]


def check_console(wd):
    """Check 4a: no SEVERE browser log entry. Returns (errors, notes)."""
    try:
        entries = wd.call("POST", "/session/{sid}/se/log", {"type": "browser"}) or []
    except SetupError as e:
        return [], [f"note: browser console log unavailable, not checked ({e})"]
    return [f"console error: {e.get('message', '').strip()}" for e in entries
            if e.get("level") == "SEVERE"], []


def check_network(wd):
    """Check 4b: no resource fetched from anything but file: or data: URLs."""
    return [f"network request attempted: {url}" for url in wd.js(NETWORK_JS)]


def save_screenshot(wd, dest):
    """Check 5: full-page screenshot (width 1280, height capped), written atomically."""
    height = min(int(wd.js(HEIGHT_JS) or 900), MAX_SHOT_HEIGHT)
    wd.call("POST", "/session/{sid}/window/rect", {"width": WIDTH, "height": height})
    inner = wd.js("return window.innerHeight;")  # grow if the window has non-page pixels
    if inner < height:
        wd.call("POST", "/session/{sid}/window/rect",
                {"width": WIDTH, "height": min(2 * height - inner, MAX_SHOT_HEIGHT)})
    png = base64.b64decode(wd.call("GET", "/session/{sid}/screenshot"))
    return write_atomically(pathlib.Path(dest).resolve(), png)


def write_atomically(dest, data):
    fd, tmp = tempfile.mkstemp(prefix=".shot-", suffix=".png", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, dest)
    except BaseException:
        os.unlink(tmp)
        raise
    return dest


def run_checks(wd, opts):
    """Runs checks 1-5; returns (errors, notes, charts, screenshot path)."""
    load_error = load_page(wd, pathlib.Path(opts.report).resolve().as_uri())
    if load_error:
        return [load_error], [], [], None
    charts = wd.js(CHARTS_JS)
    errors = check_chart_set(charts, opts.expect_chart, opts.min_charts)
    errors += check_chart_content(charts)
    console_errors, notes = check_console(wd)
    errors += console_errors + check_network(wd)
    return errors, notes, charts, save_screenshot(wd, opts.screenshot)


def close(wd, driver, tmpdir):
    """Deletes the session, stops chromedriver and its browser, removes the temp dir."""
    if wd.sid:
        with contextlib.suppress(OSError, SetupError):
            wd.call("DELETE", "/session/{sid}", timeout=10)
    if driver:
        driver.terminate()
        try:
            driver.wait(timeout=5)
        except subprocess.TimeoutExpired:
            driver.kill()
            driver.wait()
        with contextlib.suppress(OSError):  # any browser left in chromedriver's group
            os.killpg(driver.pid, signal.SIGKILL)
    shutil.rmtree(tmpdir, ignore_errors=True)


def print_summary(errors, notes, charts, shot):
    print(f"charts found: {len(charts)}")
    print(f"chart ids: {', '.join(c['id'] or '(no id)' for c in charts) or '(none)'}")
    print(f"screenshot: {shot or '(not taken)'}")
    for line in notes:
        print(line)
    for line in errors:
        print(f"FAIL {line}", file=sys.stderr)


def main():
    opts = parse_args()
    if not os.path.isfile(opts.report):
        print(f"report_e2e: no such report file: {opts.report}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # same cleanup as Ctrl-C
    tmpdir, driver = tempfile.mkdtemp(prefix="report-e2e-"), None
    port = free_port()
    wd = WebDriver(f"http://127.0.0.1:{port}")
    try:
        driver = start_driver(port, os.path.join(tmpdir, "chromedriver.log"))
        wait_ready(wd, driver)
        new_session(wd, os.path.join(tmpdir, "profile"))
        errors, notes, charts, shot = run_checks(wd, opts)
    except (SetupError, OSError) as e:
        print(f"report_e2e: setup error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("report_e2e: interrupted", file=sys.stderr)
        return 130
    finally:
        close(wd, driver, tmpdir)
    print_summary(errors, notes, charts, shot)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Real-browser check of the explorer app: Voila serves the notebook, headless Chromium (Selenium) drives it.

DOM contract (classes added with `widget.add_class(...)`):
  .dfss-explorer   the app's outer box
  .dfss-image      Dropdown (a <select> inside)        .dfss-domain     Dropdown
  .dfss-method     ToggleButtons (<button>s inside)     .dfss-threshold  FloatSlider
  .dfss-opacity    FloatSlider                          .dfss-view       ipywidgets.Image (<img>, blob/data src)
  .dfss-iou        HTML whose text contains "IoU"

Steps: start Voila (cwd = the notebook's folder), open the page, wait for the app and a loaded picture,
screenshot (before.png, must not be blank), pick another image in .dfss-image, wait for a new picture and a
new IoU text (an unchanged one only warns, unless --require-iou-change), screenshot (after.png, the app region
must differ), click another .dfss-method button and wait for a new picture (method.png). Exit 0 on success; otherwise 1 with the reason, the end of Voila's log, the
page's visible text and the browser console errors. Needs: voila, selenium, pillow, and Debian's
chromium + chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver); never downloads a driver.

    python .ci/browser_check.py [--notebook nbs/11_explorer.ipynb] [--out DIR] [--timeout 240]
"""
import argparse, os, signal, socket, subprocess, sys, tempfile, time, traceback
from pathlib import Path

# Selenium Manager must never run (it would try to download a driver): we always pass an explicit driver path,
# and if anything still reached for it, it would run /bin/false and fail instead of going to the network.
os.environ.setdefault("SE_OFFLINE", "true")
os.environ.setdefault("SE_AVOID_STATS", "true")
os.environ["SE_MANAGER_PATH"] = "/bin/false"

REPO = Path(__file__).resolve().parent.parent
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
CONTRACT = ["dfss-explorer", "dfss-image", "dfss-domain", "dfss-method", "dfss-threshold", "dfss-opacity",
            "dfss-view", "dfss-iou"]
VIEW_IMG = "img.dfss-view, .dfss-view img"

# One round trip for the page state: the picture's src and whether it is decoded, the IoU text, and errors.
STATE_JS = r"""
const img = document.querySelector(arguments[0]);
const iou = document.querySelector('.dfss-iou');
// Voila renders a failing cell's traceback as stderr output
const errs = Array.from(document.querySelectorAll(
  '[data-mime-type="application/vnd.jupyter.error"], [data-mime-type="application/vnd.jupyter.stderr"]'))
  .filter(e => /Traceback|Error/.test(e.innerText));
return {
  app: !!document.querySelector('.dfss-explorer'),
  src: img ? (img.getAttribute('src') || '') : null,
  loaded: !!(img && img.complete && img.naturalWidth > 0),
  iou: iou ? iou.innerText : null,
  iouMutations: window.__dfssIouMutations || 0,
  errors: errs.map(e => e.innerText).join('\n').slice(-3000),
  // ipywidgets 8 draws a widget it cannot create or render as an error box ("Click to show javascript error.")
  widgetErrors: document.querySelectorAll('.jupyter-widgets-error-widget').length,
  appWidgetErrors: document.querySelectorAll('.dfss-explorer .jupyter-widgets-error-widget').length,
};
"""
OBSERVE_IOU_JS = r"""
window.__dfssIouMutations = 0;
const el = document.querySelector('.dfss-iou');
if (el) new MutationObserver(m => { window.__dfssIouMutations += m.length; })
  .observe(el, {childList: true, subtree: true, characterData: true});
"""


class CheckFailed(Exception):
    pass


def log(msg):
    print(f"[browser-check] {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, n=40):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError as e:
        return f"(no log: {e})"


def start_voila(nb, port, log_path, timeout, extra=()):
    cmd = [sys.executable, "-m", "voila", nb.name, "--no-browser", f"--port={port}", "--Voila.port_retries=0",
           "--Voila.ip=127.0.0.1", "--strip_sources=True", "--show_tracebacks=True", "--theme=light",
           "--Voila.log_level=INFO", f"--VoilaExecutor.startup_timeout={min(int(timeout), 120)}", *extra]
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1", JUPYTER_PLATFORM_DIRS="1",
               BROWSER="true")  # BROWSER=true: even if something asked, no browser would open
    logf = open(log_path, "w")
    proc = subprocess.Popen(cmd, cwd=nb.parent, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env, start_new_session=True)
    logf.close()
    log(f"voila pid {proc.pid} on http://127.0.0.1:{port}/ (cwd {nb.parent}, log {log_path})")
    return proc


def wait_port(proc, port, deadline):
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CheckFailed(f"voila exited with status {proc.returncode} before it listened on port {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.25)
    raise CheckFailed(f"voila did not listen on port {port} in time")


def stop_voila(proc):
    """SIGTERM the process group (Voila shuts its kernels down), then SIGKILL whatever is left, kernels included
    (jupyter_client starts kernels in their own session, so the group kill alone does not reach them)."""
    if proc is None:
        return
    try:
        import psutil
        kids = psutil.Process(proc.pid).children(recursive=True)
    except Exception:
        psutil, kids = None, []
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(wait)
            except subprocess.TimeoutExpired:
                pass
    if psutil:
        alive = [k for k in kids if k.is_running()]
        for k in alive:
            try:
                k.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(alive, timeout=5)


def make_driver(width, height):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    for p in (CHROMIUM, CHROMEDRIVER):
        if not os.access(p, os.X_OK):
            raise CheckFailed(f"{p} is missing: apt-get install -y --no-install-recommends chromium chromium-driver")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              f"--window-size={width},{height}", "--force-device-scale-factor=1", "--hide-scrollbars",
              "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
              "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
              "--mute-audio", "--lang=en-US",
              # offline and deterministic: only the local Voila server resolves (CDN fonts/icons fail fast,
              # with or without internet)
              "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        opts.add_argument(a)
    opts.page_load_strategy = "none"   # Voila streams the page while the kernel runs: we poll instead
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(CHROMEDRIVER, log_output=subprocess.DEVNULL)
    return webdriver.Chrome(service=service, options=opts)


def state(driver):
    return driver.execute_script(STATE_JS, VIEW_IMG)


CELL_ERROR = "Error at server while executing cell"   # Voila's log line; it stops executing at the first error


def cell_failed(log_path):
    try:
        return CELL_ERROR in Path(log_path).read_text(errors="replace")
    except OSError:
        return False


def wait_for(driver, what, cond, timeout, proc, log_path, poll=0.25):
    """Poll `state` until cond(state) is true; fail on timeout, on Voila's death, or on a cell error while the
    app is absent (Voila stops executing the notebook at the first error, so the app would never come)."""
    t0 = time.monotonic()
    last = None
    while True:
        try:
            last = state(driver)
        except Exception as e:   # the document may be between states while it streams in
            last = {"error": repr(e)}
        if "error" not in last and cond(last):
            return last, time.monotonic() - t0
        if proc.poll() is not None:
            raise CheckFailed(f"voila exited (status {proc.returncode}) while waiting for {what}")
        if last.get("appWidgetErrors"):
            raise CheckFailed(f"{last['appWidgetErrors']} widget(s) inside .dfss-explorer failed to render (an error box "
                              "in place of the widget; the browser console below says why)")
        if not last.get("app") and cell_failed(log_path):
            time.sleep(2)   # let the traceback arrive in the page, then report it
            try:
                tb = state(driver)["errors"]
            except Exception:
                tb = "(see the voila log below)"
            raise CheckFailed(f"a notebook cell raised before the app appeared (Voila stops at the first error):\n{tb}")
        if time.monotonic() - t0 > timeout:
            raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what}; last state: {short(last)}")
        time.sleep(poll)


def short(st):
    if not st:
        return st
    st = dict(st)
    if st.get("src"):
        st["src"] = st["src"][:60] + ("..." if len(st["src"]) > 60 else "")
    return st


def app_box(driver):
    """The app's rectangle in screenshot pixels, clipped to the viewport."""
    r = driver.execute_script("""
        const e = document.querySelector('.dfss-explorer'); e.scrollIntoView({block: 'start'});
        const b = e.getBoundingClientRect();
        return [b.left, b.top, b.right, b.bottom, window.innerWidth, window.innerHeight, window.devicePixelRatio];""")
    l, t, rr, b, w, h, dpr = r
    box = [max(0, l), max(0, t), min(w, rr), min(h, b)]
    box = tuple(int(round(v * dpr)) for v in box)
    if box[2] - box[0] < 10 or box[3] - box[1] < 10:
        raise CheckFailed(f"the .dfss-explorer box is (almost) empty or off screen: {r}")
    return box


def shoot(driver, out, name, box=None):
    from PIL import Image
    path = out / name
    driver.execute_script("document.querySelector('.dfss-explorer').scrollIntoView({block: 'start'});")
    time.sleep(0.3)   # one or two frames for the new picture to paint
    if not driver.save_screenshot(str(path)):
        raise CheckFailed(f"could not write {path}")
    box = box or app_box(driver)
    with Image.open(path) as im:
        crop = im.convert("RGB").crop(box)
    log(f"screenshot {path}")
    return path, crop, box


def not_blank(crop, name):
    from PIL import ImageStat
    colours = crop.getcolors(maxcolors=1 << 16)
    n = len(colours) if colours is not None else 1 << 16
    std = sum(ImageStat.Stat(crop).stddev) / 3
    if n < 16 or std < 5:
        raise CheckFailed(f"{name}: the app region {crop.size} looks blank ({n} colours, pixel std {std:.1f})")
    return n, std


def differs(a, b, what):
    from PIL import ImageChops
    diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > 16 else 0)
    changed = sum(diff.histogram()[255:]) / (diff.size[0] * diff.size[1])
    if diff.getbbox() is None or changed < 0.001:
        raise CheckFailed(f"{what}: the app region did not change on screen ({changed:.4%} of its pixels)")
    return changed


def page_text(driver, n=4000):
    try:
        t = driver.execute_script("return document.body ? document.body.innerText : ''") or ""
        return t if len(t) <= n else "...\n" + t[-n:]
    except Exception as e:
        return f"(page text unavailable: {e!r})"


def console_errors(driver, n=20):
    try:
        entries = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
        blocked = [e for e in entries if "net::ERR_NAME_NOT_RESOLVED" in e["message"]]   # CDN fonts, blocked on purpose
        logs = [f"{e['level']}: {e['message']}" for e in entries if e not in blocked][-n:]
        if blocked:
            logs.append(f"({len(blocked)} external resource(s) not loaded: the browser only resolves 127.0.0.1)")
        return "\n".join(logs) or "(none)"
    except Exception as e:
        return f"(console unavailable: {e!r})"


def run(args, out):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    nb = Path(args.notebook)
    if not nb.is_absolute() and not nb.exists():
        nb = REPO / nb
    nb = nb.resolve()
    if not nb.is_file():
        raise CheckFailed(f"notebook not found: {args.notebook}")
    ctx = {"proc": None, "driver": None, "log": out / "voila.log"}
    t_start = time.monotonic()
    deadline = t_start + args.timeout
    try:
        port = args.port or free_port()
        ctx["proc"] = proc = start_voila(nb, port, ctx["log"], args.timeout, args.voila_arg)
        ctx["driver"] = driver = make_driver(*args.window)
        driver.set_script_timeout(30)
        wait_port(proc, port, deadline)
        t_get = time.monotonic()
        driver.get(f"http://127.0.0.1:{port}/")

        # 1. the app renders: the outer box, then a decoded picture
        remaining = lambda: max(1.0, deadline - time.monotonic())
        wait_for(driver, "the .dfss-explorer box", lambda s: s["app"], remaining(), proc, ctx["log"])
        st, _ = wait_for(driver, "a loaded picture in .dfss-view", lambda s: s["src"] and s["loaded"], remaining(), proc, ctx["log"])
        t_rendered = time.monotonic() - t_get
        if cell_failed(ctx["log"]):
            log(f"WARNING: a notebook cell raised after the app appeared (see {ctx['log']})")
        if st["widgetErrors"]:
            log(f"WARNING: {st['widgetErrors']} widget(s) outside the app failed to render")
        missing = [c for c in CONTRACT if not driver.find_elements(By.CSS_SELECTOR, f".{c}")]
        if missing:
            raise CheckFailed("the page lacks these DOM-contract classes: " + ", ".join("." + c for c in missing))
        if not st["src"].startswith(("blob:", "data:")):
            raise CheckFailed(f".dfss-view src is neither a blob: nor a data: URL: {st['src'][:80]}")
        if "IoU" not in (st["iou"] or ""):
            raise CheckFailed(f".dfss-iou text lacks 'IoU': {st['iou']!r}")
        log(f"widgets rendered {t_rendered:.1f} s after the page request; IoU text {st['iou']!r}")
        _, before, box = shoot(driver, out, "before.png")
        n, std = not_blank(before, "before.png")
        log(f"before.png app region {box}: {n} colours, pixel std {std:.1f}")

        # 2. another image in the dropdown -> new picture and new IoU text
        sel = Select(driver.find_element(By.CSS_SELECTOR, ".dfss-image select"))
        opts = [o.text for o in sel.options]
        cur = sel.first_selected_option.text
        if len(opts) < 2:
            raise CheckFailed(f".dfss-image has fewer than 2 options: {opts}")
        target = next(i for i, o in enumerate(opts) if o != cur)
        driver.execute_script(OBSERVE_IOU_JS)
        old_src, old_iou = st["src"], st["iou"]
        t0 = time.monotonic()
        sel.select_by_index(target)
        log(f".dfss-image: {cur!r} -> {opts[target]!r}")
        st, _ = wait_for(driver, f"a new .dfss-view picture after picking {opts[target]!r} in .dfss-image (the <img> "
                         "still shows the old one: does the app redraw when the image changes?)",
                         lambda s: s["src"] and s["src"] != old_src and s["loaded"], args.step_timeout, proc, ctx["log"])
        t_resp = time.monotonic() - t0
        # The app sets the picture and the IoU line in one callback, so a new IoU line follows within moments.
        # Two images can share an IoU (e.g. 0.0% for both); then the widget gets no update at all (traitlets sends
        # nothing for an equal value), so an unchanged line is a warning unless --require-iou-change.
        try:
            st, _ = wait_for(driver, "a new .dfss-iou text after changing .dfss-image",
                             lambda s: s["iou"] != old_iou or s["iouMutations"] > 0,
                             args.step_timeout if args.require_iou_change else 5, proc, ctx["log"])
            iou_note = f"IoU text {old_iou!r} -> {st['iou']!r}"
        except CheckFailed:
            if args.require_iou_change:
                raise
            st = state(driver)
            iou_note = f"WARNING: IoU text unchanged ({st['iou']!r}): same value for both images?"
        if "IoU" not in (st["iou"] or ""):
            raise CheckFailed(f".dfss-iou text lacks 'IoU' after the change: {st['iou']!r}")
        log(f"responded in {t_resp:.1f} s; {iou_note}")
        _, after, _ = shoot(driver, out, "after.png", box)
        not_blank(after, "after.png")
        frac = differs(before, after, "after changing .dfss-image")
        log(f"after.png differs from before.png in {frac:.1%} of the app region")

        # 3. another method button -> new picture
        t_method = None
        buttons = driver.find_elements(By.CSS_SELECTOR, ".dfss-method button")
        others = [b for b in buttons if "mod-active" not in (b.get_attribute("class") or "")]
        if len(buttons) >= 2 and others:
            old_src, label = st["src"], others[0].text
            t0 = time.monotonic()
            others[0].click()
            log(f".dfss-method: clicked {label!r}")
            wait_for(driver, f"a new .dfss-view picture after clicking {label!r} in .dfss-method (the <img> still "
                     "shows the old one: does the app redraw when the method changes?)",
                     lambda s: s["src"] and s["src"] != old_src and s["loaded"], args.step_timeout, proc, ctx["log"])
            t_method = time.monotonic() - t0
            _, meth, _ = shoot(driver, out, "method.png", box)
            not_blank(meth, "method.png")
            log(f"method change responded in {t_method:.1f} s")
        else:
            log(f".dfss-method has {len(buttons)} button(s): method click skipped")

        total = time.monotonic() - t_start
        extra = f", method in {t_method:.1f} s" if t_method is not None else ""
        print(f"browser check passed: widgets rendered in {t_rendered:.1f} s, responded in {t_resp:.1f} s"
              f"{extra} (total {total:.1f} s; screenshots in {out})", flush=True)
        return 0
    except Exception as e:
        msg = str(e) if isinstance(e, CheckFailed) else "".join(traceback.format_exception(e)).rstrip()
        print(f"browser check FAILED: {msg}", file=sys.stderr, flush=True)
        driver = ctx["driver"]
        if driver is not None:
            try:
                driver.save_screenshot(str(out / "failure.png"))
                print(f"--- screenshot at failure: {out / 'failure.png'}", file=sys.stderr)
            except Exception:
                pass
            print("--- page's visible text:\n" + page_text(driver), file=sys.stderr)
            print("--- browser console (warnings and errors):\n" + console_errors(driver), file=sys.stderr)
        print(f"--- last 40 lines of the voila log ({ctx['log']}):\n" + tail(ctx["log"]), file=sys.stderr, flush=True)
        return 1
    finally:
        if ctx["driver"] is not None:
            try:
                ctx["driver"].quit()
            except Exception as e:
                log(f"browser quit failed: {e!r}")
        stop_voila(ctx["proc"])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--notebook", default="nbs/11_explorer.ipynb", help="relative to cwd, else to the repo root")
    p.add_argument("--out", default=None, help="folder for screenshots and voila.log (default: a new temp dir)")
    p.add_argument("--timeout", type=float, default=240,
                   help="seconds for Voila to start, run the notebook and show the app with a picture (default 240)")
    p.add_argument("--step-timeout", type=float, default=120,
                   help="seconds for each interaction to show a new picture (default 120; fitting a method can be slow)")
    p.add_argument("--require-iou-change", action="store_true",
                   help="fail (not warn) when the IoU text stays the same after another image is picked")
    p.add_argument("--voila-arg", action="append", default=[], metavar="ARG",
                   help="extra argument for voila, repeatable (e.g. --voila-arg=--VoilaExecutor.timeout=600)")
    p.add_argument("--port", type=int, default=0, help="port for voila (default: a free one)")
    p.add_argument("--window", type=int, nargs=2, default=(1400, 1000), metavar=("W", "H"))
    args = p.parse_args(argv)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="browser_check_"))
    out.mkdir(parents=True, exist_ok=True)
    out = out.resolve()
    # a TERM (e.g. a CI timeout) is reported like any failure, and the finally blocks still stop voila and the browser
    def on_term(*_):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise CheckFailed("terminated by SIGTERM")
    signal.signal(signal.SIGTERM, on_term)
    try:
        return run(args, out)
    except CheckFailed as e:   # raised before anything was started
        print(f"browser check FAILED: {e}", file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""Every control of every lesson widget in a real browser: find it, move it as a student would, time its figure.

Used by the browser test (each control moved once, its figure must change) and ``benchmarks/browser.py`` (each
control moved N times and timed). The timing happens in the page, so Playwright's own latency is not in it.
"""
from __future__ import annotations

import time

# In the page: a control is an ipywidgets input inside a widget box whose Output shows a figure (an image or a
# plotly graph). `arm` starts a MutationObserver on that figure and a capturing listener for the user's input;
# `result` says when the input happened, when the figure last changed, and how many times it was redrawn (a new
# image, or a plotly redraw) — more than two after a burst of moves means stale updates were queued.
_PROBE = r"""() => {
  if (window.__dd) return;
  const SEL = {slider: '.widget-slider', dropdown: '.widget-dropdown', checkbox: '.widget-checkbox',
               toggle: '.widget-toggle-buttons', text: '.widget-text'};
  const figureOf = el => {
    for (let box = el.closest('.widget-vbox'); box; box = box.parentElement?.closest('.widget-vbox')) {
      const fig = box.querySelector('.widget-output img, .js-plotly-plot');
      if (fig) return fig.closest('.widget-output') || fig.closest('.js-plotly-plot').parentElement;
    }
    return null;
  };
  const label = el => {
    const own = (el.querySelector(':scope > label.widget-label')?.textContent || '').replace('\u200b', '').trim();
    const buttons = Array.from(el.querySelectorAll('.widget-toggle-button')).map(b => b.textContent.trim());
    return own || buttons.join(' / ') || el.textContent.replace('\u200b', '').trim();  // a checkbox's text is its own
  };
  const controls = () => {
    const out = [];
    for (const [kind, sel] of Object.entries(SEL)) {
      for (const el of document.querySelectorAll('.jp-OutputArea ' + sel)) {
        const fig = figureOf(el);
        if (!fig) continue;
        if (!fig.dataset.ddFigure) fig.dataset.ddFigure = String(document.querySelectorAll('[data-dd-figure]').length);
        const fixed = el.querySelector('.noUi-handle[aria-valuemin]');    // a slider with one value cannot move
        if (fixed && fixed.getAttribute('aria-valuemin') === fixed.getAttribute('aria-valuemax')) continue;
        el.dataset.ddControl = el.dataset.ddControl || String(document.querySelectorAll('[data-dd-control]').length);
        out.push({id: el.dataset.ddControl, kind, label: label(el), figure: fig.dataset.ddFigure});
      }
    }
    return out;
  };
  const state = {t0: null, t1: null, redraws: 0, obs: null, armed: false, inputs: [], draws: []};
  const hash = str => {                                   // FNV-1a: any change of the string changes it
    let h = 0x811c9dc5;
    for (let i = 0; i < str.length; i++) h = Math.imul(h ^ str.charCodeAt(i), 16777619);
    return h >>> 0;
  };
  const signature = fig => {
    const img = fig.querySelector('img');
    if (img) return img.getAttribute('src')?.length + ':' + hash(img.getAttribute('src') || '');
    const plot = fig.querySelector('.js-plotly-plot');
    if (!plot) return null;                                // cleared, not yet redrawn
    const parts = [];                                      // every mark's shape and place, every text
    for (const el of plot.querySelectorAll('path, text')) {
      parts.push(el.getAttribute('d') || '', el.getAttribute('transform') || '', el.getAttribute('style') || '',
                 el.tagName === 'text' ? el.textContent : '');
    }
    return parts.length + ':' + hash(parts.join('|'));
  };
  window.__dd = {
    controls,
    arm(figId) {
      const fig = document.querySelector(`[data-dd-figure="${figId}"]`);
      state.obs?.disconnect();
      Object.assign(state, {t0: null, t1: null, redraws: 0, armed: true, last: signature(fig), inputs: [], draws: []});
      state.obs = new MutationObserver(() => {
        if (state.t0 === null) return;
        const sig = signature(fig);
        if (sig !== null && sig !== state.last) {
          state.last = sig; state.redraws += 1; state.t1 = performance.now(); state.draws.push(state.t1);
        }
      });
      state.obs.observe(fig, {subtree: true, childList: true, attributes: true, characterData: true});
    },
    result() {
      const lastInput = state.inputs.length ? state.inputs[state.inputs.length - 1] : null;
      return {t0: state.t0, t1: state.t1, redraws: state.redraws, now: performance.now(),
              after_last_input: state.draws.filter(t => t > lastInput).length,
              last_input_to_figure: lastInput === null || state.t1 === null ? null : state.t1 - lastInput};
    },
  };
  for (const type of ['keydown', 'pointerdown', 'change', 'click']) {
    document.addEventListener(type, () => {
      if (!state.armed) return;
      const now = performance.now();
      if (state.t0 === null) state.t0 = now;
      if (type !== 'click' && type !== 'change') state.inputs.push(now);   // one entry per key or press
    }, true);
  }
}"""


def controls(page) -> list[dict]:
    """Every control (slider, dropdown, checkbox, toggle buttons, text box) whose widget draws a figure, in page
    order: {"id", "kind", "label", "figure"} (ids tag the elements: ``control(page, c)`` finds one again)."""
    page.evaluate(_PROBE)
    return page.evaluate("() => window.__dd.controls()")


def control(page, c: dict):
    return page.locator(f'[data-dd-control="{c["id"]}"]')


def move(page, c: dict, i: int = 0, presses: int = 1, gap_ms: int = 0) -> None:
    """Change control ``c`` the way a student would (keyboard on a slider, the next option of a dropdown, a click);
    ``i`` picks the direction or option so that successive moves differ; ``presses`` > 1 makes a burst."""
    el = control(page, c)
    el.scroll_into_view_if_needed()
    if c["kind"] == "slider":
        handle = el.locator(".noUi-handle").first
        now, hi = (float(handle.get_attribute(a)) for a in ("aria-valuenow", "aria-valuemax"))
        lo = float(handle.get_attribute("aria-valuemin"))
        if presses > 1:   # a burst goes where there is room for all of it
            key = "ArrowLeft" if now > (lo + hi) / 2 else "ArrowRight"
        else:
            key = "ArrowLeft" if (i % 2 == 1 or now >= hi) else "ArrowRight"
        handle.focus()
        for k in range(presses):
            handle.press(key)
            if gap_ms and k < presses - 1:
                page.wait_for_timeout(gap_ms)
    elif c["kind"] == "dropdown":
        select = el.locator("select")
        options = select.locator("option").all_text_contents()
        current = select.evaluate("s => s.selectedIndex")
        select.select_option(index=(current + 1) % len(options))
    elif c["kind"] == "checkbox":
        el.locator("input").click()
    elif c["kind"] == "toggle":
        el.locator(".widget-toggle-button:not(.mod-active)").first.click()
    elif c["kind"] == "text":
        box = el.locator("input")
        box.fill(TEXTS[i % len(TEXTS)])
        box.press("Enter")


TEXTS = ["a thin slanted two", "a thick four", "the digit nine", "a slanted seven"]


def timed_move(page, c: dict, i: int = 0, timeout_s: float = 120, quiet_ms: int = 600, **kw) -> dict:
    """Move ``c`` and wait until its figure has changed and then stayed still for ``quiet_ms``: returns
    {"ms": input → last change of the figure, "redraws": figure changes seen, "after_last_input": changes after
    the last key press (1: only the newest value was drawn after it; 2: one stale update was still in flight),
    "last_ms": last input → last change} (ms None: it never changed)."""
    page.evaluate(f"() => window.__dd.arm('{c['figure']}')")
    move(page, c, i, **kw)
    r = _settled(page, timeout_s, quiet_ms)
    return {"ms": None if r["t1"] is None or r["t0"] is None else r["t1"] - r["t0"], "redraws": r["redraws"],
            "after_last_input": r["after_last_input"], "last_ms": r["last_input_to_figure"]}


def _settled(page, timeout_s: float, quiet_ms: int) -> dict:
    """The probe's result once the armed figure has changed and then stayed still for ``quiet_ms`` (or timed out)."""
    deadline = time.time() + timeout_s
    while True:
        r = page.evaluate("() => window.__dd.result()")
        if (r["t1"] is not None and r["now"] - r["t1"] > quiet_ms) or time.time() > deadline:
            return r
        page.wait_for_timeout(50)


def wait_redrawn(page, timeout_s: float = 120, quiet_ms: int = 300) -> bool:
    """After ``window.__dd.arm`` and an input: True once the armed figure has changed and stayed still."""
    return _settled(page, timeout_s, quiet_ms)["t1"] is not None

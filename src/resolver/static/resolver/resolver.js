/* MathOCR resolver web page: draw or photograph an expression, send it, show the answer,
 * let the sender correct the reading, and keep their recent sums in this browser.
 *
 * Plain browser JavaScript, no build step. It sends exactly what the mobile app sends:
 * POST {"image": "data:image/...;base64,..."} to the create endpoint (data-api-url on #app).
 * Drawings go as a PNG with a transparent background (canvas.toDataURL()); photos as the
 * cropped region only, as a JPEG. A correction goes to POST {images}{pk}/correction/ with
 * the answer's edit token in the X-Edit-Token header; the token is kept in memory only
 * (never in the URL, never in storage), so it is gone when the page is left or reloaded.
 */
(function () {
  "use strict";

  /** Symbols below this confidence are highlighted with their alternatives. */
  const LOW_CONFIDENCE = 0.7;
  /** Alternatives less likely than this are not worth showing. */
  const MIN_ALTERNATIVE = 0.01;
  /** At most this many alternatives are offered for a symbol. */
  const MAX_ALTERNATIVES = 3;
  /** Longest side, in pixels, of a cropped photo sent to the server. */
  const MAX_SIDE = 2048;
  /** How long to wait for the server (data-timeout-ms on #app overrides it). */
  const TIMEOUT_MS = 30000;
  /** How a few class names are shown to people. */
  const DISPLAY = { "-": "−", "*": "×", "/": "/" };
  /** What each symbol is called, for screen readers and the symbol editor. */
  const NAMES = {
    "+": "plus", "-": "minus", "×": "times", "÷": "divided by", "/": "divided by (slash)",
    "=": "equals", "(": "opening bracket", ")": "closing bracket", ".": "decimal point",
    "[": "opening square bracket", "]": "closing square bracket", "<": "less than",
    ">": "greater than", "≤": "less than or equal to", "≥": "greater than or equal to",
    "≠": "not equal to",
  };
  /** The symbol classes a correction may name (mathocr.symbols.CLASSES, "reject" aside). */
  const CLASSES = [..."0123456789", "+", "-", "×", "÷", "/", "=", "(", ")", ".", "[", "]",
    "<", ">", "≤", "≥", "≠"];
  /** What people type for a symbol -> its class. */
  const TYPED = {
    "*": "×", x: "×", X: "×", "·": "×", "⋅": "×", ":": "÷", "−": "-", "–": "-",
    "<=": "≤", ">=": "≥", "!=": "≠", "=<": "≤", "=>": "≥", "<>": "≠",
  };
  /** Characters phones and people type that the API does not read, and what they mean. */
  const LOOSE = { "−": "-", "–": "-", "—": "-", "·": "*", "⋅": "*", ":": "/" };
  /** A class -> how the expression writes it (the API's canonical ASCII). */
  const ASCII = { "×": "*", "÷": "/", "≤": "<=", "≥": ">=", "≠": "!=" };

  const $ = (id) => document.getElementById(id);
  const app = $("app");
  const apiUrl = app.dataset.apiUrl || "/api/images/create/";
  /** Where stored images are (``DELETE {imagesUrl}{pk}/``). */
  const imagesUrl = app.dataset.imagesUrl || apiUrl.replace(/create\/?$/, "");
  /** True while a request is under way. */
  let busy = false;

  const timeoutMs = () => Number(app.dataset.timeoutMs) || TIMEOUT_MS;
  const ascii = (symbol) => ASCII[symbol] || symbol;
  const shown = (symbol) => DISPLAY[symbol] || symbol;
  const named = (symbol) => (NAMES[symbol] ? `${shown(symbol)} (${NAMES[symbol]})` : shown(symbol));
  const percent = (p) => `${Math.round(p * 100)}%`;

  // --- tabs ------------------------------------------------------------------------

  const tabs = Array.from(document.querySelectorAll('[role="tab"]'));

  function selectTab(tab, focus) {
    for (const t of tabs) {
      const selected = t === tab;
      t.setAttribute("aria-selected", String(selected));
      t.tabIndex = selected ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !selected;
    }
    if (focus) tab.focus();
    if (tab.id === "tab-draw") pad.resize();
  }

  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab, false));
    tab.addEventListener("keydown", (event) => {
      const i = tabs.indexOf(tab);
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[
        event.key
      ];
      if (next === undefined) return;
      event.preventDefault();
      selectTab(tabs[(next + tabs.length) % tabs.length], true);
    });
  }

  // --- drawing pad -------------------------------------------------------------------

  const pad = (function () {
    const canvas = $("pad");
    const ctx = canvas.getContext("2d");
    const undoButton = $("undo");
    const clearButton = $("clear");
    const solveButton = $("solve-drawing");
    /** Strokes as vectors, in the units of ``page``: [{width, points: [[x, y, k], ...]}]
     * (``width`` the pen's, ``k`` a pen pressure factor). */
    let strokes = [];
    let current = null;
    /** The box the strokes' coordinates refer to: the pad's CSS size when drawing began.
     * A resized or rotated pad shows that whole box, scaled to fit and centred, so the
     * drawing keeps its proportions and nothing of it is cut off. */
    let page = null;
    /** The pad's CSS size now, and its backing store's pixels per CSS pixel. */
    let view = { w: 0, h: 0 };
    let ratio = 1;

    /** From ``page`` units to CSS pixels of the pad: scale and offset. */
    function fit() {
      const s = Math.min(view.w / page.w, view.h / page.h);
      return { s, x: (view.w - page.w * s) / 2, y: (view.h - page.h * s) / 2 };
    }

    function resize() {
      const rect = canvas.getBoundingClientRect();
      if (!rect.width || !rect.height) return; // hidden
      view = { w: rect.width, h: rect.height };
      ratio = Math.min(window.devicePixelRatio || 1, 2);
      if (!strokes.length || !page) {
        page = { ...view };
      } else {
        // Strokes drawn beside the box (the pad was wider or taller than it) stay in.
        let x1 = page.w, y1 = page.h, x0 = 0, y0 = 0;
        for (const s of strokes) {
          for (const [x, y] of s.points) {
            x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
          }
        }
        if (x0 < 0 || y0 < 0) {
          for (const s of strokes) for (const p of s.points) { p[0] -= x0; p[1] -= y0; }
        }
        page = { w: x1 - x0, h: y1 - y0 };
      }
      canvas.width = Math.round(view.w * ratio);
      canvas.height = Math.round(view.h * ratio);
      redraw();
    }

    /** The pen's width in CSS pixels for a new stroke on a pad ``view.w`` wide. */
    function penWidth() {
      return Math.min(5, Math.max(2.5, view.w / 180));
    }

    function setTransform() {
      const t = fit();
      ctx.setTransform(ratio * t.s, 0, 0, ratio * t.s, ratio * t.x, ratio * t.y);
    }

    function drawSegment(stroke, a, b) {
      ctx.lineWidth = stroke.width * (a[2] + b[2]) / 2;
      ctx.beginPath();
      ctx.moveTo(a[0], a[1]);
      ctx.lineTo(b[0], b[1]);
      ctx.stroke();
    }

    function drawStroke(stroke) {
      const pts = stroke.points;
      if (pts.length === 1) {
        ctx.beginPath();
        ctx.arc(pts[0][0], pts[0][1], stroke.width * pts[0][2] / 2, 0, 2 * Math.PI);
        ctx.fill();
        return;
      }
      for (let i = 1; i < pts.length; i++) drawSegment(stroke, pts[i - 1], pts[i]);
    }

    function redraw() {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height); // transparent, like the app
      ctx.strokeStyle = ctx.fillStyle = "#111";
      ctx.lineCap = ctx.lineJoin = "round";
      if (!page) return;
      setTransform();
      for (const s of strokes) drawStroke(s);
    }

    function changed() {
      const empty = strokes.length === 0;
      undoButton.disabled = clearButton.disabled = empty;
      solveButton.disabled = empty || busy;
      canvas.setAttribute("aria-label", empty ? "Drawing area (empty)"
        : `Drawing area (${strokes.length} stroke${strokes.length === 1 ? "" : "s"})`);
    }

    /** An edit of the drawing: an answer on screen no longer matches it. */
    function edited() {
      if (!strokes.length) page = { ...view };
      redraw();
      changed();
      markStale("drawing");
    }

    function point(event) {
      const rect = canvas.getBoundingClientRect();
      // Pens report pressure; mice report 0.5 while pressed and touch often 0 or 1.
      const k = event.pointerType === "pen" && event.pressure > 0
        ? 0.6 + 0.8 * event.pressure : 1;
      const t = fit();
      return [(event.clientX - rect.left - t.x) / t.s, (event.clientY - rect.top - t.y) / t.s, k];
    }

    canvas.addEventListener("pointerdown", (event) => {
      if (!event.isPrimary || event.button > 0 || !page) return;
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      current = { width: penWidth() / fit().s, points: [point(event)], pointerId: event.pointerId };
      strokes.push(current);
      setTransform();
      drawStroke(current);
    });

    canvas.addEventListener("pointermove", (event) => {
      if (!current || event.pointerId !== current.pointerId) return;
      const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      setTransform();
      for (const e of events.length ? events : [event]) {
        const p = point(e);
        const last = current.points[current.points.length - 1];
        if (p[0] === last[0] && p[1] === last[1]) continue;
        current.points.push(p);
        drawSegment(current, last, p);
      }
    });

    function end(event) {
      if (!current || event.pointerId !== current.pointerId) return;
      delete current.pointerId;
      current = null;
      changed();
      markStale("drawing");
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("contextmenu", (event) => event.preventDefault());

    undoButton.addEventListener("click", () => { strokes.pop(); edited(); });
    clearButton.addEventListener("click", () => { strokes = []; edited(); });
    $("panel-draw").addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z" && strokes.length) {
        event.preventDefault();
        undoButton.click();
      }
    });
    solveButton.addEventListener("click", () => {
      if (strokes.length) submit(canvas.toDataURL("image/png"), "drawing", solveButton);
    });

    new ResizeObserver(() => resize()).observe(canvas);
    return { resize, changed };
  })();

  // --- photo and crop frame -------------------------------------------------------------

  const photo = (function () {
    const input = $("photo-file");
    const nameLabel = $("photo-name");
    const box = $("crop");
    const img = $("photo");
    const frame = $("crop-frame");
    const solveButton = $("solve-photo");
    /** The crop in the photo's own pixels. */
    let crop = null;
    let file = null;
    let decoded = false;
    let objectUrl = null;
    let drag = null;

    function natural() {
      return { w: img.naturalWidth, h: img.naturalHeight };
    }

    function clamp(c) {
      const { w, h } = natural();
      const min = Math.max(8, Math.round(Math.min(w, h) * 0.03));
      const out = { ...c };
      out.w = Math.min(Math.max(out.w, min), w);
      out.h = Math.min(Math.max(out.h, min), h);
      out.x = Math.min(Math.max(out.x, 0), w - out.w);
      out.y = Math.min(Math.max(out.y, 0), h - out.h);
      return out;
    }

    function place() {
      const { w, h } = natural();
      frame.style.left = `${(crop.x / w) * 100}%`;
      frame.style.top = `${(crop.y / h) * 100}%`;
      frame.style.width = `${(crop.w / w) * 100}%`;
      frame.style.height = `${(crop.h / h) * 100}%`;
      frame.setAttribute("aria-label",
        `Crop frame: ${Math.round(crop.w)} × ${Math.round(crop.h)} pixels at ` +
        `${Math.round(crop.x)}, ${Math.round(crop.y)}`);
      frame.dataset.crop = [crop.x, crop.y, crop.w, crop.h].map(Math.round).join(",");
    }

    function reset() {
      const { w, h } = natural();
      // Like the app's camera frame: a wide band across the middle of the picture.
      crop = clamp({ x: w * 0.05, y: h * 0.2, w: w * 0.9, h: h * 0.6 });
      place();
    }

    input.addEventListener("change", () => {
      file = input.files && input.files[0];
      decoded = false;
      solveButton.disabled = true;
      box.hidden = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      objectUrl = null;
      if (!file) { nameLabel.textContent = ""; return; }
      nameLabel.textContent = file.name;
      markStale("photo");
      objectUrl = URL.createObjectURL(file);
      img.onload = () => {
        decoded = true;
        box.hidden = false;
        reset();
        solveButton.disabled = busy;
      };
      img.onerror = () => {
        // The browser cannot show it; let the server judge it and explain.
        nameLabel.textContent = `${file.name} (this browser cannot show it; Solve sends it as it is)`;
        solveButton.disabled = busy;
      };
      img.src = objectUrl;
    });

    frame.addEventListener("pointerdown", (event) => {
      if (!event.isPrimary || event.button > 0) return;
      event.preventDefault();
      frame.setPointerCapture(event.pointerId);
      const handle = event.target.dataset.handle || "move";
      drag = { id: event.pointerId, handle, x: event.clientX, y: event.clientY, start: { ...crop } };
    });

    frame.addEventListener("pointermove", (event) => {
      if (!drag || event.pointerId !== drag.id) return;
      const k = natural().w / img.getBoundingClientRect().width; // photo px per CSS px
      const dx = (event.clientX - drag.x) * k;
      const dy = (event.clientY - drag.y) * k;
      const s = drag.start;
      let c;
      if (drag.handle === "move") {
        c = { ...s, x: s.x + dx, y: s.y + dy };
      } else {
        let x0 = s.x, y0 = s.y, x1 = s.x + s.w, y1 = s.y + s.h;
        if (drag.handle.includes("w")) x0 = Math.min(x0 + dx, x1 - 8);
        if (drag.handle.includes("e")) x1 = Math.max(x1 + dx, x0 + 8);
        if (drag.handle.includes("n")) y0 = Math.min(y0 + dy, y1 - 8);
        if (drag.handle.includes("s")) y1 = Math.max(y1 + dy, y0 + 8);
        const { w, h } = natural();
        x0 = Math.max(0, x0); y0 = Math.max(0, y0); x1 = Math.min(w, x1); y1 = Math.min(h, y1);
        c = { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
      }
      crop = clamp(c);
      place();
    });

    const stop = (event) => { if (drag && event.pointerId === drag.id) drag = null; };
    frame.addEventListener("pointerup", stop);
    frame.addEventListener("pointercancel", stop);

    frame.addEventListener("keydown", (event) => {
      const step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[
        event.key
      ];
      if (!step || !crop) return;
      event.preventDefault();
      const { w, h } = natural();
      const dx = step[0] * w * 0.02;
      const dy = step[1] * h * 0.02;
      crop = clamp(event.shiftKey
        ? { ...crop, w: crop.w + dx, h: crop.h + dy }
        : { ...crop, x: crop.x + dx, y: crop.y + dy });
      place();
    });

    function cropped() {
      const scale = Math.min(1, MAX_SIDE / Math.max(crop.w, crop.h));
      const out = document.createElement("canvas");
      out.width = Math.max(1, Math.round(crop.w * scale));
      out.height = Math.max(1, Math.round(crop.h * scale));
      const ctx = out.getContext("2d");
      ctx.fillStyle = "#fff"; // JPEG has no alpha: a transparent PNG photo goes on white
      ctx.fillRect(0, 0, out.width, out.height);
      ctx.drawImage(img, crop.x, crop.y, crop.w, crop.h, 0, 0, out.width, out.height);
      return out.toDataURL("image/jpeg", 0.92);
    }

    function raw() {
      return new Promise((resolve, reject) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result);
        reader.onerror = () => reject(reader.error);
        reader.readAsDataURL(file);
      });
    }

    solveButton.addEventListener("click", async () => {
      if (!file) return;
      if (decoded) submit(cropped(), "photo", solveButton);
      else submit(await raw(), "photo", solveButton);
    });

    window.addEventListener("resize", () => { if (crop) place(); });
    return { setBusy: (b) => { solveButton.disabled = b || !file; } };
  })();

  // --- requests ----------------------------------------------------------------------------

  const output = $("output");

  /** What a comma between digits means, as the sender last chose (kept on this device). */
  const COMMA_KEY = "mathocr.comma.v1";
  const commaChoice = $("comma");
  try {
    const saved = localStorage.getItem(COMMA_KEY);
    if (saved && [...commaChoice.options].some((o) => o.value === saved)) commaChoice.value = saved;
  } catch (e) { /* storage disabled */ }
  commaChoice.addEventListener("change", () => {
    try { localStorage.setItem(COMMA_KEY, commaChoice.value); } catch (e) { /* storage disabled */ }
  });

  function setBusy(value) {
    busy = value;
    output.setAttribute("aria-busy", String(value));
    $("spinner").hidden = !value;
    pad.changed();
    photo.setBusy(value);
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content && meta.content !== "NOTPROVIDED") return meta.content;
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  /** The words of a DRF error body: {"image": ["..."], "codes": {...}} or {"detail": "..."};
   * machine-readable codes are left out. */
  function errorText(body) {
    if (!body || typeof body !== "object") return "";
    if (typeof body.detail === "string") return body.detail;
    const parts = [];
    for (const [key, value] of Object.entries(body)) {
      if (key === "code" || key === "codes") continue;
      if (Array.isArray(value)) {
        parts.push(...value.map((v) => (typeof v === "string" ? v : errorText(v))));
      } else if (typeof value === "string") parts.push(value);
      else if (value && typeof value === "object") parts.push(errorText(value));
    }
    return parts.filter(Boolean).join(" ");
  }

  /** ``fetch`` with a time limit and a way to cancel it. ``promise`` resolves to
   * ``{response, body}`` (the body parsed as JSON, or null), or to ``{failure}``:
   * ``"timeout"``, ``"cancelled"`` or ``"network"``. */
  function request(url, options) {
    const controller = new AbortController();
    let why = null;
    const timer = setTimeout(() => { why = "timeout"; controller.abort(); }, timeoutMs());
    const promise = (async () => {
      try {
        const response = await fetch(url, {
          credentials: "same-origin", ...options, signal: controller.signal,
        });
        const text = await response.text();
        let body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
        return { response, body };
      } catch (e) {
        return { failure: why || "network" };
      } finally {
        clearTimeout(timer);
      }
    })();
    return { promise, cancel: () => { why = why || "cancelled"; controller.abort(); } };
  }

  function headers(extra) {
    return {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-CSRFToken": csrfToken(),
      ...extra,
    };
  }

  const UNREACHABLE = "Could not reach the server. Check the connection and try again.";

  /** The create request under way, if any (Cancel stops it). */
  let pending = null;

  async function submit(dataUrl, source, button) {
    if (busy) return;
    stopCorrecting();
    setBusy(true);
    output.dataset.state = "waiting";
    $("placeholder").hidden = true;
    const comma = commaChoice.value;  // "" leaves it to the server's MATHOCR_COMMA
    pending = request(apiUrl, {
      method: "POST", headers: headers(),
      body: JSON.stringify(comma ? { image: dataUrl, comma } : { image: dataUrl }),
    });
    const { response, body, failure } = await pending.promise;
    pending = null;
    setBusy(false);
    const photo = source === "photo";
    if (failure === "cancelled") {
      showError("Cancelled: the page stopped waiting for the answer.", "cancelled");
      button.focus(); // the Cancel button is gone
      return;
    }
    if (failure === "timeout") {
      const seconds = Math.round(timeoutMs() / 1000);
      showError(`The server did not answer within ${seconds} seconds, so the page stopped ` +
        "waiting.", "timeout", photo ? "Try again in a moment, or crop closer around the " +
        "expression." : "Try again in a moment.");
    } else if (failure) {
      showError(UNREACHABLE);
    } else if (response.ok && body) {
      showResult(body, dataUrl, source);
    } else if (response.status === 413) {
      showError(photo ? "The image is too large to send. Crop it closer or use a smaller photo."
        : "The drawing is too large to send.");
    } else if (response.status === 429) {
      showError("Too many requests. Wait a moment and try again.");
    } else if (response.status >= 400 && response.status < 500) {
      showError(errorText(body) || `The server refused the image (HTTP ${response.status}).`);
    } else {
      showError(errorText(body) ||
        `The server could not read the image (HTTP ${response.status}). Try again later.`);
    }
    reveal();
  }

  $("cancel").addEventListener("click", () => { if (pending) pending.cancel(); });

  /** Bring the answer into view (below the fold on a phone) and move focus to it. */
  function reveal() {
    const top = output.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight * 0.4) output.scrollIntoView({ block: "start" });
    output.focus({ preventScroll: true });
  }

  // --- the answer on screen ------------------------------------------------------------------

  /** The answer on screen: the machine's answer (``data``), the sent image, the stored
   * image's id and edit token (in memory only: ``stored``), and what the sender made of
   * its symbols (``tokens``: the expression as symbols, each with the index of the read
   * symbol it stands for, or null for one the sender added). */
  let state = null;

  function markStale() {
    if (!state && $("error").hidden) return; // nothing on screen to be stale
    output.dataset.stale = "true";
    $("stale-note").hidden = false;
  }

  function clearStale() {
    delete output.dataset.stale;
    $("stale-note").hidden = true;
  }

  function textSpan(className, text) {
    const span = document.createElement("span");
    span.className = className;
    span.textContent = text;
    return span;
  }

  function showError(text, kind, hint) {
    const el = $("error");
    const main = textSpan("error-text", text);
    el.replaceChildren(main);
    if (hint) {
      const extra = textSpan("error-hint", hint);
      el.append(" ", extra);
    }
    el.className = "alert" + (kind ? ` ${kind}` : "");
    el.hidden = false;
    clearStale();
    if (kind !== "unreadable") { // an unreadable image is stored too, and can be corrected
      state = null;
      offerDelete(null);
      offerCorrection();
    }
    $("answer").hidden = true;
    $("figure").hidden = true;
    output.dataset.state = kind || "error";
  }

  function renderMath(latex, el, display) {
    if (window.katex) {
      try {
        window.katex.render(latex, el, { displayMode: display, throwOnError: false });
        return;
      } catch (e) { /* fall through to text */ }
    }
    el.textContent = latex;
  }

  /** The alternatives worth offering: real symbols (never ``reject``), at least 1 %. */
  function useful(sym) {
    return (sym.alternatives || [])
      .filter((a) => CLASSES.includes(a.symbol) && a.symbol !== sym.symbol &&
        a.confidence >= MIN_ALTERNATIVE)
      .slice(0, MAX_ALTERNATIVES);
  }

  function alternativesText(sym) {
    return useful(sym).map((a) => `${shown(a.symbol)} (${percent(a.confidence)})`).join(", ");
  }

  function describe(sym) {
    const alts = alternativesText(sym);
    return `${shown(sym.symbol)}: ${percent(sym.confidence)} sure` +
      (alts ? `; could also be ${alts}` : "");
  }

  /** The confidence to show: the answer's, but never more than its least sure symbol's. */
  function shownConfidence(data) {
    const value = Number(data.confidence) || 0;
    let weakest = null;
    for (const sym of data.symbols || []) {
      if (!weakest || sym.confidence < weakest.confidence) weakest = sym;
    }
    return weakest && weakest.confidence < value
      ? { value: weakest.confidence, weakest } : { value, weakest: null };
  }

  /** The outcome in a few words: ``= 33``, ``✓ True``, or why there is none. */
  function answerText(view) {
    if (view.verdict === true) return "✓ True";
    if (view.verdict === false) return "✗ False";
    if (view.result !== null && view.result !== undefined && view.result !== "") {
      return `= ${view.result}`;
    }
    return view.message || "cannot be computed";
  }

  function unreadableHint(source) {
    return source === "photo"
      ? "Write larger and darker, on one line, and crop close around it."
      : "Write larger, on one line, with the symbols side by side.";
  }

  function showResult(data, dataUrl, source) {
    clearStale();
    $("error").hidden = true;
    const symbols = data.symbols || [];
    state = {
      data, dataUrl, source,
      stored: data.pk && data.edit_token ? { pk: data.pk, token: data.edit_token } : null,
      tokens: symbols.map((sym, index) => ({ symbol: sym.symbol, index })),
    };
    offerDelete(state.stored);
    output.dataset.state = data.status;
    output.dataset.status = data.status;
    delete output.dataset.corrected;
    if (data.status === "unreadable") {
      showError(data.message || "No expression found in the image.", "unreadable",
        unreadableHint(source));
    } else {
      showAnswer(data, null);
    }
    if (data.status !== "unreadable" || symbols.length) showFigure(symbols, dataUrl);
    offerCorrection();
    if (data.status !== "unreadable") remember(data, false);
  }

  /** Show an answer about an expression: the machine's (``machine`` null) or a
   * correction's, ``machine`` then being what the machine read. */
  function showAnswer(view, machine) {
    $("error").hidden = true;
    $("answer").hidden = false;
    renderMath(view.latex || "", $("math"), true);
    $("expression-text").textContent = view.expression || "";
    $("expression-label").textContent = machine === null ? "Read as" : "Corrected to";
    $("read-as").hidden = machine === null;
    $("read-as-text").textContent = machine || "nothing";
    const outcome = $("outcome");
    outcome.replaceChildren();
    outcome.className = "outcome";
    outcome.removeAttribute("aria-label");
    if (view.verdict === true || view.verdict === false) {
      outcome.classList.add(view.verdict ? "verdict-true" : "verdict-false");
      outcome.textContent = view.verdict ? "✓ True" : "✗ False";
      outcome.setAttribute("aria-label", view.verdict
        ? "The equation is true" : "The equation is false");
    } else if (view.result !== null && view.result !== undefined && view.result !== "") {
      const exact = textSpan("exact", `= ${view.result}`);
      outcome.append(exact);
      if (view.result_decimal && view.result_decimal !== view.result) {
        const dec = textSpan("decimal", `≈ ${view.result_decimal}`);
        outcome.append(dec);
      }
    }
    // A solved answer speaks for itself; otherwise say why it could not be computed.
    $("message").textContent = view.status === "solved" ? ""
      : view.message || "Read, but it cannot be computed.";
    const list = $("computations");
    list.replaceChildren();
    for (const c of view.computations || []) {
      const li = document.createElement("li");
      const name = textSpan("name", c.name);
      const math = document.createElement("span");
      renderMath(c.result || "", math, false);
      li.append(name, math);
      list.append(li);
    }
    const steps = Array.isArray(view.steps) ? view.steps : [];
    $("steps-box").hidden = steps.length === 0;
    $("steps-count").textContent = String(steps.length);
    $("steps").replaceChildren(...steps.map((step) => {
      const li = document.createElement("li");
      renderMath(String(step), li, false);
      return li;
    }));
    // The machine's confidence says nothing about what the sender typed.
    $("confidence-line").hidden = machine !== null;
    $("corrected-note").hidden = machine === null;
    if (machine === null) {
      const { value, weakest } = shownConfidence(view);
      $("confidence-meter").value = value;
      const text = $("confidence-text");
      text.textContent = percent(value);
      text.className = value >= 0.8 ? "level-good" : value >= 0.5 ? "level-fair" : "level-poor";
      $("confidence-note").textContent = weakest
        ? `(no more than its least sure symbol, ${shown(weakest.symbol)})` : "";
    }
  }

  /** The part of a W x H image worth showing: the symbols' boxes with a margin, and room
   * above them for labels ``font`` high (it may reach beyond the image's top edge). */
  function region(symbols, W, H, font) {
    if (!symbols.length) return [0, 0, W, H];
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const { box: [x, y, w, h] } of symbols) {
      x0 = Math.min(x0, x); y0 = Math.min(y0, y);
      x1 = Math.max(x1, x + w); y1 = Math.max(y1, y + h);
    }
    const margin = Math.max(8, 0.25 * (y1 - y0));
    x0 = Math.max(0, x0 - margin);
    x1 = Math.min(W, x1 + margin);
    y0 = Math.min(Math.max(0, y0 - margin), y0 - 1.4 * font);
    y1 = Math.min(H, y1 + margin);
    return [x0, y0, x1 - x0, y1 - y0];
  }

  // --- the figure and its symbols ----------------------------------------------------------

  const NS = "http://www.w3.org/2000/svg";

  function showFigure(symbols, dataUrl) {
    const figure = $("figure");
    const svg = $("boxes");
    const list = $("symbols");
    closeEditor(false);
    svg.replaceChildren();
    svg.removeAttribute("data-ready");
    list.replaceChildren();
    figure.hidden = false;
    const picture = new Image();
    picture.onload = () => {
      if (!state || state.dataUrl !== dataUrl) return; // another answer came meanwhile
      const W = picture.naturalWidth;
      const H = picture.naturalHeight;
      const heights = symbols.map((s) => s.box[3]).sort((a, b) => a - b);
      const median = heights.length ? heights[heights.length >> 1] : H / 4;
      const font = Math.max(10, median * 0.45);
      const view = region(symbols, W, H, font);
      svg.setAttribute("viewBox", view.join(" "));
      const image = document.createElementNS(NS, "image");
      for (const [k, v] of Object.entries({ x: 0, y: 0, width: W, height: H })) {
        image.setAttribute(k, v);
      }
      image.setAttribute("href", dataUrl);
      svg.append(image);
      symbols.forEach((sym, i) => {
        const [x, y, w, h] = sym.box;
        const g = document.createElementNS(NS, "g");
        g.setAttribute("class", sym.confidence < LOW_CONFIDENCE ? "symbol-box low" : "symbol-box");
        g.dataset.index = String(i);
        // The list is built before the picture loads: a symbol focused or hovered
        // meanwhile must find its box highlighted once the box exists.
        const item = list.children[i];
        if (item && item.matches(":focus-within, :hover")) g.classList.add("active");
        const title = document.createElementNS(NS, "title");
        title.textContent = describe(sym);
        const rect = document.createElementNS(NS, "rect");
        for (const [k, v] of Object.entries({ x, y, width: w, height: h })) rect.setAttribute(k, v);
        rect.setAttribute("vector-effect", "non-scaling-stroke");
        rect.setAttribute("stroke-width", "2");
        const text = document.createElementNS(NS, "text");
        text.setAttribute("x", x + w / 2);
        text.setAttribute("y", y - font * 0.25);
        text.setAttribute("text-anchor", "middle");
        text.setAttribute("font-size", font);
        text.setAttribute("stroke-width", font * 0.15);
        text.textContent = shown(sym.symbol);
        g.append(title, rect, text);
        svg.append(g);
      });
      svg.dataset.ready = "true";
      refreshSymbols();
    };
    picture.src = dataUrl;

    $("unsure-note").hidden = !symbols.some((sym) => sym.confidence < LOW_CONFIDENCE);
    $("chips-note").hidden = !symbols.length;
    symbols.forEach((sym, i) => {
      const low = sym.confidence < LOW_CONFIDENCE;
      const li = document.createElement("li");
      li.className = low ? "symbol low" : "symbol";
      li.dataset.index = String(i);
      li.title = describe(sym);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "chip";
      button.setAttribute("aria-expanded", "false");
      button.setAttribute("aria-controls", "symbol-editor");
      const glyph = textSpan("glyph", shown(sym.symbol));
      const prob = textSpan("prob", percent(sym.confidence));
      button.append(glyph, prob);
      li.append(button);
      const alts = alternativesText(sym);
      if (low && alts) {
        const tip = document.createElement("span");
        tip.className = "tip";
        tip.setAttribute("aria-hidden", "true"); // the button's name says the same
        tip.textContent = `could also be ${alts}`;
        li.append(tip);
      }
      const activate = (on) => {
        const g = svg.querySelector(`g[data-index="${i}"]`);
        if (g) g.classList.toggle("active", on);
      };
      li.addEventListener("mouseenter", () => activate(true));
      li.addEventListener("mouseleave", () => activate(li.matches(":focus-within")));
      li.addEventListener("focusin", () => activate(true));
      li.addEventListener("focusout", () => activate(false));
      button.addEventListener("click", () => {
        if (editing === i) closeEditor(true);
        else openEditor(i);
      });
      list.append(li);
    });
    refreshSymbols();
  }

  /** What read symbol ``i`` is now: its own class, the sender's, or ``reject`` (removed). */
  function symbolAt(i) {
    const token = state.tokens.find((t) => t.index === i);
    return token ? token.symbol : "reject";
  }

  /** Whether the sender changed read symbol ``i`` (``×`` typed as ``*`` is no change). */
  function changedAt(i) {
    const now = symbolAt(i);
    const read = state.data.symbols[i].symbol;
    return now === "reject" || ascii(now) !== ascii(read);
  }

  /** Chips and boxes show what each symbol is now; their names say what was read. */
  function refreshSymbols() {
    if (!state) return;
    const symbols = state.data.symbols || [];
    const items = $("symbols").children;
    const n = symbols.length;
    symbols.forEach((sym, i) => {
      const li = items[i];
      if (!li) return;
      const now = symbolAt(i);
      const changed = changedAt(i);
      const removed = now === "reject";
      li.classList.toggle("edited", changed && !removed);
      li.classList.toggle("removed", removed);
      li.querySelector(".glyph").textContent = shown(changed && !removed ? now : sym.symbol);
      li.querySelector(".prob").textContent = removed ? "removed" : changed ? "yours"
        : percent(sym.confidence);
      const read = `${named(sym.symbol)}, ${percent(sym.confidence)} sure`;
      const alts = alternativesText(sym);
      let label = `Symbol ${i + 1} of ${n}: `;
      if (removed) label += `removed by you (read as ${read})`;
      else if (changed) label += `${named(now)}, corrected by you (read as ${read})`;
      else {
        label += read + (sym.confidence < LOW_CONFIDENCE ? ", unsure" : "") +
          (alts ? `; could also be ${alts}` : "");
      }
      li.querySelector(".chip").setAttribute("aria-label", label);
      const g = $("boxes").querySelector(`g[data-index="${i}"]`);
      if (g) {
        g.classList.toggle("edited", changed && !removed);
        g.classList.toggle("removed", removed);
        g.querySelector("text").textContent = removed ? "✕" : shown(changed ? now : sym.symbol);
      }
    });
  }

  // --- correcting a symbol: the symbol editor ------------------------------------------------

  const editor = $("symbol-editor");
  const symbolInput = $("symbol-input");
  /** The index of the symbol being edited, or null. */
  let editing = null;

  function chipButton(i) {
    const li = $("symbols").children[i];
    return li ? li.querySelector(".chip") : null;
  }

  function choice(label, detail, symbol, name) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary choice";
    button.dataset.symbol = symbol;
    const main = textSpan("choice-symbol", label);
    button.append(main);
    if (detail) {
      const small = textSpan("choice-detail", detail);
      button.append(small);
    }
    if (name) button.setAttribute("aria-label", name);
    return button;
  }

  function openEditor(i) {
    if (!state) return;
    if (editing !== null) closeEditor(false);
    const sym = state.data.symbols[i];
    const now = symbolAt(i);
    const changed = changedAt(i);
    editing = i;
    const n = state.data.symbols.length;
    let title = `Symbol ${i + 1} of ${n}: read as ${named(sym.symbol)}, ` +
      `${percent(sym.confidence)} sure`;
    if (changed) title += now === "reject" ? "; you removed it" : `; you made it ${named(now)}`;
    $("symbol-editor-title").textContent = state.stored ? `${title}. What is it?` : `${title}.`;
    const choices = $("symbol-choices");
    choices.replaceChildren();
    const canEdit = Boolean(state.stored);
    for (const alt of useful(sym)) {
      if (alt.symbol === now) continue;
      choices.append(choice(shown(alt.symbol), percent(alt.confidence), alt.symbol,
        `${named(alt.symbol)}, ${percent(alt.confidence)} likely`));
    }
    if (changed) {
      choices.append(choice(`Back to ${shown(sym.symbol)}`, "as read", sym.symbol,
        `Back to ${named(sym.symbol)}, as read`));
    }
    if (now !== "reject") {
      choices.append(choice("Not a symbol", "remove it", "reject",
        "Not a symbol: remove it"));
    }
    for (const b of choices.children) b.disabled = !canEdit;
    $("symbol-other").hidden = !canEdit;
    $("symbol-error").textContent = canEdit ? ""
      : "This image is no longer on the server, so it cannot be corrected.";
    symbolInput.value = "";
    editor.hidden = false;
    const chip = chipButton(i);
    if (chip) chip.setAttribute("aria-expanded", "true");
    const first = canEdit ? choices.querySelector("button") || symbolInput
      : $("symbol-editor-close");
    first.focus();
  }

  function closeEditor(refocus) {
    if (editing === null) return;
    const chip = chipButton(editing);
    editing = null;
    editor.hidden = true;
    if (chip) {
      chip.setAttribute("aria-expanded", "false");
      if (refocus) chip.focus();
    }
  }

  $("symbol-choices").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-symbol]");
    if (button && editing !== null) setSymbol(editing, button.dataset.symbol);
  });

  $("symbol-other").addEventListener("submit", (event) => {
    event.preventDefault();
    if (editing === null) return;
    const typed = symbolInput.value.trim();
    const symbol = TYPED[typed] || typed;
    if (!CLASSES.includes(symbol)) {
      $("symbol-error").textContent = typed
        ? `“${typed}” is not a symbol the reader knows. Type a digit or one of . + - × ÷ / = ( ).`
        : "Type a digit or one of . + - × ÷ / = ( ).";
      symbolInput.focus();
      return;
    }
    setSymbol(editing, symbol);
  });

  $("symbol-editor-close").addEventListener("click", () => closeEditor(true));
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { event.preventDefault(); closeEditor(true); }
  });

  /** Read symbol ``i`` is ``symbol`` (``reject``: no symbol): rebuild the text, recompute. */
  function setSymbol(i, symbol) {
    const tokens = state.tokens;
    const at = tokens.findIndex((t) => t.index === i);
    if (symbol === "reject") {
      if (at >= 0) tokens.splice(at, 1);
    } else if (at >= 0) {
      tokens[at].symbol = symbol;
    } else { // put it back where it was among the read symbols
      let pos = tokens.findIndex((t) => t.index !== null && t.index > i);
      if (pos < 0) pos = tokens.length;
      tokens.splice(pos, 0, { symbol, index: i });
    }
    correctInput.value = tokens.map((t) => ascii(t.symbol)).join("");
    refreshSymbols();
    closeEditor(true);
    recompute();
  }

  // --- correcting the expression as text -----------------------------------------------------

  const correctForm = $("correct");
  const correctInput = $("correct-input");
  const correctStatus = $("correct-status");
  /** The correction request under way, if any. */
  let correcting = null;

  /** The symbols of a typed expression, as classes (``*`` and ``x`` are ``×``, ...). */
  function tokenize(text) {
    const out = [];
    for (let i = 0; i < text.length;) {
      const two = text.slice(i, i + 2);
      if (TYPED[two]) { out.push(TYPED[two]); i += 2; continue; }
      const c = text[i++];
      if (!/\s/.test(c)) out.push(TYPED[c] || c);
    }
    return out;
  }

  /** Line the typed symbols up with the read ones (fewest edits, Levenshtein): each typed
   * symbol gets the index of the read symbol it replaces, or null if the sender added it;
   * a read symbol left without one was removed. */
  function align(read, typed) {
    const a = read.map((s) => ascii(s.symbol));
    const b = typed.map(ascii);
    const n = a.length, m = b.length;
    if (n * m > 250000) return typed.map((symbol) => ({ symbol, index: null }));
    const d = [];
    for (let i = 0; i <= n; i++) {
      d.push(new Array(m + 1));
      d[i][0] = i;
    }
    for (let j = 0; j <= m; j++) d[0][j] = j;
    for (let i = 1; i <= n; i++) {
      for (let j = 1; j <= m; j++) {
        d[i][j] = Math.min(d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
          d[i - 1][j] + 1, d[i][j - 1] + 1);
      }
    }
    const out = [];
    let i = n, j = m;
    while (i > 0 || j > 0) {
      if (i > 0 && j > 0 && d[i][j] === d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)) {
        out.push({ symbol: typed[j - 1], index: i - 1 });
        i--; j--;
      } else if (i > 0 && d[i][j] === d[i - 1][j] + 1) {
        i--; // read symbol i was removed
      } else {
        out.push({ symbol: typed[j - 1], index: null });
        j--;
      }
    }
    return out.reverse();
  }

  /** The read symbols the sender changed, as the correction endpoint takes them. */
  function symbolChanges() {
    const changes = [];
    (state.data.symbols || []).forEach((sym, i) => {
      if (!changedAt(i)) return;
      const now = symbolAt(i);
      if (now === "reject" || CLASSES.includes(now)) changes.push({ index: i, symbol: now });
    });
    return changes;
  }

  function offerCorrection() {
    stopCorrecting();
    correctForm.hidden = !(state && state.stored);
    correctInput.disabled = $("correct-submit").disabled = false;
    correctInput.value = state ? state.data.expression || "" : "";
    correctStatus.textContent = "";
    correctStatus.className = "correct-status";
  }

  function stopCorrecting() {
    if (correcting) correcting.cancel();
    correcting = null;
    correctForm.removeAttribute("aria-busy");
  }

  function setCorrectStatus(text, kind) {
    correctStatus.textContent = text;
    correctStatus.className = "correct-status" + (kind ? ` ${kind}` : "");
  }

  correctForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!state) return;
    state.tokens = align(state.data.symbols || [], tokenize(correctInput.value));
    refreshSymbols();
    closeEditor(false);
    recompute();
  });

  correctInput.addEventListener("input", () => {
    if (!correcting) {
      setCorrectStatus("Press Enter or Recompute to see the answer for this expression.");
    }
  });

  /** Send the expression as it stands (and the symbols changed) and show its answer. */
  async function recompute() {
    if (!state || !state.stored) return;
    const expression = correctInput.value.trim().replace(/[−–—·⋅:]/g, (c) => LOOSE[c]);
    if (!expression) {
      setCorrectStatus("Type the expression first.", "error");
      correctInput.focus();
      return;
    }
    stopCorrecting();
    const { pk, token } = state.stored;
    const job = request(`${imagesUrl}${encodeURIComponent(pk)}/correction/`, {
      method: "POST",
      headers: headers({ "X-Edit-Token": token }),
      body: JSON.stringify({ expression, symbols: symbolChanges() }),
    });
    correcting = job;
    correctForm.setAttribute("aria-busy", "true");
    setCorrectStatus("Recomputing…");
    const { response, body, failure } = await job.promise;
    if (correcting !== job) return; // a newer correction, or a new image, took over
    correcting = null;
    correctForm.removeAttribute("aria-busy");
    const still = `The answer shown is still for ${$("expression-text").textContent || "the reading"}.`;
    if (failure) {
      setCorrectStatus(failure === "timeout"
        ? `The server did not answer in time. ${still}` : `${UNREACHABLE} ${still}`, "error");
    } else if (response.ok && body && body.correction) {
      const view = body.correction;
      output.dataset.state = view.status;
      output.dataset.status = view.status;
      output.dataset.corrected = "true";
      showAnswer(view, state.data.expression || "");
      setCorrectStatus(`Recomputed: ${view.message || answerText(view)}`, "done");
      remember(view, true);
    } else if (response.status === 400) {
      setCorrectStatus(`Not recomputed: ${errorText(body) || "this is not an expression."} ` +
        still, "error");
    } else if (response.status === 403 || response.status === 404) {
      state.stored = null;
      offerDelete(null);
      correctInput.disabled = $("correct-submit").disabled = true;
      setCorrectStatus("This image is no longer on the server, so it cannot be corrected.",
        "error");
    } else if (response.status === 429) {
      setCorrectStatus(`Too many requests. Wait a moment and try again. ${still}`, "error");
    } else {
      setCorrectStatus(`${errorText(body) || `The server could not recompute it ` +
        `(HTTP ${response.status}).`} ${still}`, "error");
    }
  }

  // --- deleting ----------------------------------------------------------------------------

  const forget = $("forget");
  const deleteButton = $("delete-image");
  const deleteStatus = $("delete-status");

  function offerDelete(stored) {
    forget.hidden = !stored;
    deleteButton.disabled = false;
    deleteStatus.textContent = "";
  }

  async function deleteStored() {
    if (!state || !state.stored) return;
    const { pk, token } = state.stored;
    deleteButton.disabled = true;
    deleteStatus.textContent = "Deleting…";
    const { response, failure } = await request(`${imagesUrl}${encodeURIComponent(pk)}/`, {
      method: "DELETE",
      headers: { Accept: "application/json", "X-Edit-Token": token, "X-CSRFToken": csrfToken() },
    }).promise;
    if (!failure && response.status === 204) {
      if (state && state.stored && state.stored.pk === pk) {
        state.stored = null;
        stopCorrecting();
        correctForm.hidden = true;
        closeEditor(false);
      }
      recent.remove(pk);
      deleteStatus.textContent =
        "Deleted: the server no longer has this image, and your recent sums no longer list it.";
    } else {
      deleteButton.disabled = false;
      deleteStatus.textContent = failure
        ? (failure === "timeout" ? "The server did not answer in time. Try again." : UNREACHABLE)
        : `The image could not be deleted (HTTP ${response.status}). Try again.`;
    }
  }

  deleteButton.addEventListener("click", deleteStored);

  // --- your recent sums (this browser only) -------------------------------------------------

  /** The sender's recent results in localStorage: a small picture, the expression and the
   * answer, newest first; at most HISTORY_MAX of them in at most HISTORY_MAX_CHARS. The
   * edit token is not kept: it is a secret that deletes and corrects the image, and any
   * script of this origin (or the next person at a shared computer) could read it there. */
  const HISTORY_KEY = "mathocr.history.v1";
  const HISTORY_MAX = 20;
  const HISTORY_MAX_CHARS = 400000;
  /** The thumbnail's largest size in pixels (shown at half that in CSS pixels). */
  const THUMB = { w: 240, h: 96 };

  const recent = (function () {
    const list = $("history-list");
    const empty = $("history-empty");
    const clearButton = $("history-clear");
    const status = $("history-status");
    $("history-limit").textContent = String(HISTORY_MAX);

    function valid(e) {
      return e && typeof e === "object" && Number.isFinite(e.at) &&
        typeof e.expression === "string" && typeof e.answer === "string" &&
        typeof e.thumb === "string" && (e.thumb === "" || e.thumb.startsWith("data:image/"));
    }

    function load() {
      try {
        const items = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]");
        return Array.isArray(items) ? items.filter(valid) : [];
      } catch (e) {
        return []; // storage disabled, or not ours
      }
    }

    /** Keep ``items``, dropping the oldest until they fit; returns what was kept. */
    function save(items) {
      let kept = items.slice(0, HISTORY_MAX);
      while (kept.length) {
        const text = JSON.stringify(kept);
        if (text.length <= HISTORY_MAX_CHARS) {
          try {
            localStorage.setItem(HISTORY_KEY, text);
            return kept;
          } catch (e) { /* over the browser's quota: drop the oldest */ }
        }
        kept = kept.slice(0, -1);
      }
      try { localStorage.removeItem(HISTORY_KEY); } catch (e) { /* storage disabled */ }
      return kept;
    }

    function render(items) {
      list.replaceChildren(...items.map((e) => {
        const li = document.createElement("li");
        li.className = "history-item";
        if (e.thumb) {
          const img = document.createElement("img");
          img.className = "history-thumb";
          img.alt = ""; // the expression beside it says what it shows
          img.src = e.thumb;
          li.append(img);
        }
        const text = document.createElement("span");
        text.className = "history-text";
        const expr = document.createElement("code");
        expr.className = "history-expression";
        expr.textContent = e.expression;
        const answer = textSpan("history-answer", e.answer);
        text.append(expr, " ", answer);
        if (e.corrected) {
          const note = textSpan("history-corrected", "(corrected)");
          text.append(" ", note);
        }
        const time = document.createElement("time");
        time.className = "history-time";
        const at = new Date(e.at);
        time.dateTime = at.toISOString();
        time.textContent = at.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
        li.append(text, time);
        return li;
      }));
      empty.hidden = items.length > 0;
      clearButton.disabled = items.length === 0;
    }

    function put(pk, fields, thumb) {
      const items = load();
      const old = items.find((e) => e.pk === pk);
      const entry = { pk, at: old ? old.at : Date.now(), thumb: old ? old.thumb : thumb || "",
        ...fields };
      render(save([entry, ...items.filter((e) => e !== old)]));
    }

    function remove(pk) {
      render(save(load().filter((e) => e.pk !== pk)));
    }

    clearButton.addEventListener("click", () => {
      try { localStorage.removeItem(HISTORY_KEY); } catch (e) { /* storage disabled */ }
      render([]);
      status.textContent = "Cleared: this browser no longer keeps your recent sums.";
      $("history-title").focus(); // the button is disabled now
    });

    render(load());
    return { put, remove, has: (pk) => load().some((e) => e.pk === pk) };
  })();

  /** A small JPEG of the writing in ``dataUrl`` (its symbols' region), on white. */
  function thumbnail(dataUrl, symbols) {
    return new Promise((resolve) => {
      const img = new Image();
      img.onload = () => {
        try {
          const W = img.naturalWidth, H = img.naturalHeight;
          let [x, y, w, h] = region(symbols, W, H, 0);
          y = Math.max(0, y);
          h = Math.min(H - y, h);
          const k = Math.min(1, THUMB.w / w, THUMB.h / h);
          const c = document.createElement("canvas");
          c.width = Math.max(1, Math.round(w * k));
          c.height = Math.max(1, Math.round(h * k));
          const ctx = c.getContext("2d");
          ctx.fillStyle = "#fff";
          ctx.fillRect(0, 0, c.width, c.height);
          ctx.drawImage(img, x, y, w, h, 0, 0, c.width, c.height);
          resolve(c.toDataURL("image/jpeg", 0.7));
        } catch (e) {
          resolve("");
        }
      };
      img.onerror = () => resolve("");
      img.src = dataUrl;
    });
  }

  /** Keep the answer ``view`` about the image on screen in the recent sums. */
  async function remember(view, corrected) {
    if (!state || !state.data.pk) return;
    const { pk, symbols } = state.data;
    const fields = { expression: view.expression || "", answer: answerText(view), corrected };
    const thumb = recent.has(pk) ? "" : await thumbnail(state.dataUrl, symbols || []);
    recent.put(pk, fields, thumb);
  }
})();

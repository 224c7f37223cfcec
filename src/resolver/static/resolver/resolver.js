/* MathOCR resolver web page: draw or photograph an expression, send it, show the answer.
 *
 * Plain browser JavaScript, no build step. It sends exactly what the mobile app sends:
 * POST {"image": "data:image/...;base64,..."} to the create endpoint (data-api-url on #app).
 * Drawings go as a PNG with a transparent background (canvas.toDataURL()); photos as the
 * cropped region only, as a JPEG.
 */
(function () {
  "use strict";

  /** Symbols below this confidence are highlighted with their alternatives. */
  const LOW_CONFIDENCE = 0.7;
  /** Longest side, in pixels, of a cropped photo sent to the server. */
  const MAX_SIDE = 2048;
  /** How a few class names are shown to people. */
  const DISPLAY = { "-": "−", "*": "×", "/": "/" };

  const $ = (id) => document.getElementById(id);
  const app = $("app");
  const apiUrl = app.dataset.apiUrl || "/api/images/create/";
  /** Where stored images are (``DELETE {imagesUrl}{pk}/``). */
  const imagesUrl = app.dataset.imagesUrl || apiUrl.replace(/create\/?$/, "");
  /** True while a request is under way. */
  let busy = false;

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
    /** Strokes in CSS pixels: [{points: [[x, y, widthFactor], ...]}]. */
    let strokes = [];
    let current = null;
    let cssWidth = 0;
    let scale = 1;

    function lineWidth() {
      return Math.min(5, Math.max(2.5, cssWidth / 180));
    }

    function resize() {
      const rect = canvas.getBoundingClientRect();
      if (!rect.width) return; // hidden
      const ratio = Math.min(window.devicePixelRatio || 1, 2);
      if (cssWidth && rect.width !== cssWidth) {
        const k = rect.width / cssWidth; // keep the drawing where it was, scaled
        for (const s of strokes) for (const p of s.points) { p[0] *= k; p[1] *= k; }
      }
      cssWidth = rect.width;
      scale = ratio;
      canvas.width = Math.round(rect.width * ratio);
      canvas.height = Math.round(rect.height * ratio);
      redraw();
    }

    function drawSegment(a, b) {
      ctx.lineWidth = lineWidth() * (a[2] + b[2]) / 2 * scale;
      ctx.beginPath();
      ctx.moveTo(a[0] * scale, a[1] * scale);
      ctx.lineTo(b[0] * scale, b[1] * scale);
      ctx.stroke();
    }

    function drawStroke(stroke) {
      const pts = stroke.points;
      if (pts.length === 1) {
        ctx.beginPath();
        ctx.arc(pts[0][0] * scale, pts[0][1] * scale, lineWidth() * pts[0][2] * scale / 2,
          0, 2 * Math.PI);
        ctx.fill();
        return;
      }
      for (let i = 1; i < pts.length; i++) drawSegment(pts[i - 1], pts[i]);
    }

    function redraw() {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height); // transparent, like the app
      ctx.strokeStyle = ctx.fillStyle = "#111";
      ctx.lineCap = ctx.lineJoin = "round";
      for (const s of strokes) drawStroke(s);
    }

    function changed() {
      const empty = strokes.length === 0;
      undoButton.disabled = clearButton.disabled = empty;
      solveButton.disabled = empty || busy;
      canvas.setAttribute("aria-label", empty ? "Drawing area (empty)"
        : `Drawing area (${strokes.length} stroke${strokes.length === 1 ? "" : "s"})`);
    }

    function point(event) {
      const rect = canvas.getBoundingClientRect();
      // Pens report pressure; mice report 0.5 while pressed and touch often 0 or 1.
      const width = event.pointerType === "pen" && event.pressure > 0
        ? 0.6 + 0.8 * event.pressure : 1;
      return [event.clientX - rect.left, event.clientY - rect.top, width];
    }

    canvas.addEventListener("pointerdown", (event) => {
      if (!event.isPrimary || event.button > 0) return;
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      current = { points: [point(event)], pointerId: event.pointerId };
      strokes.push(current);
      drawStroke(current);
    });

    canvas.addEventListener("pointermove", (event) => {
      if (!current || event.pointerId !== current.pointerId) return;
      const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      for (const e of events.length ? events : [event]) {
        const p = point(e);
        const last = current.points[current.points.length - 1];
        if (p[0] === last[0] && p[1] === last[1]) continue;
        current.points.push(p);
        drawSegment(last, p);
      }
    });

    function end(event) {
      if (!current || event.pointerId !== current.pointerId) return;
      current = null;
      changed();
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("contextmenu", (event) => event.preventDefault());

    undoButton.addEventListener("click", () => { strokes.pop(); redraw(); changed(); });
    clearButton.addEventListener("click", () => { strokes = []; redraw(); changed(); });
    $("panel-draw").addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z" && strokes.length) {
        event.preventDefault();
        undoButton.click();
      }
    });
    solveButton.addEventListener("click", () => {
      if (strokes.length) submit(canvas.toDataURL("image/png"));
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
      if (decoded) submit(cropped());
      else submit(await raw());
    });

    window.addEventListener("resize", () => { if (crop) place(); });
    return { setBusy: (b) => { solveButton.disabled = b || !file; } };
  })();

  // --- sending ---------------------------------------------------------------------------

  const output = $("output");

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

  async function submit(dataUrl) {
    if (busy) return;
    setBusy(true);
    output.dataset.state = "waiting";
    $("placeholder").hidden = true;
    let response;
    let body = null;
    try {
      response = await fetch(apiUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrfToken(),
        },
        body: JSON.stringify({ image: dataUrl }),
      });
      const text = await response.text();
      try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
    } catch (e) {
      setBusy(false);
      showError("Could not reach the server. Check the connection and try again.");
      return;
    }
    setBusy(false);
    if (response.ok && body) {
      showResult(body, dataUrl);
    } else if (response.status === 413) {
      showError("The image is too large to send. Crop it closer or use a smaller photo.");
    } else if (response.status === 429) {
      showError("Too many requests. Wait a moment and try again.");
    } else if (response.status >= 400 && response.status < 500) {
      showError(errorText(body) || `The server refused the image (HTTP ${response.status}).`);
    } else {
      showError(errorText(body) ||
        `The server could not read the image (HTTP ${response.status}). Try again later.`);
    }
  }

  // --- deleting ----------------------------------------------------------------------------

  /** The stored image of the last answer and its secret edit token (never shown). */
  let stored = null;
  const forget = $("forget");
  const deleteButton = $("delete-image");
  const deleteStatus = $("delete-status");

  function offerDelete(data) {
    stored = data && data.pk && data.edit_token ? { pk: data.pk, token: data.edit_token } : null;
    forget.hidden = !stored;
    deleteButton.disabled = false;
    deleteStatus.textContent = "";
  }

  async function deleteStored() {
    if (!stored) return;
    const { pk, token } = stored;
    deleteButton.disabled = true;
    deleteStatus.textContent = "Deleting…";
    let response = null;
    try {
      response = await fetch(`${imagesUrl}${encodeURIComponent(pk)}/`, {
        method: "DELETE",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-Edit-Token": token, "X-CSRFToken": csrfToken() },
      });
    } catch (e) { /* reported below */ }
    if (response && response.status === 204) {
      stored = null;
      deleteStatus.textContent = "Deleted: the server no longer has this image.";
    } else {
      deleteButton.disabled = false;
      deleteStatus.textContent = response
        ? `The image could not be deleted (HTTP ${response.status}). Try again.`
        : "Could not reach the server. Check the connection and try again.";
    }
  }

  deleteButton.addEventListener("click", deleteStored);

  // --- showing -----------------------------------------------------------------------------

  function showError(text, kind, hint) {
    const el = $("error");
    const main = document.createElement("span");
    main.className = "error-text";
    main.textContent = text;
    el.replaceChildren(main);
    if (hint) {
      const extra = document.createElement("span");
      extra.className = "error-hint";
      extra.textContent = hint;
      el.append(" ", extra);
    }
    el.className = "alert" + (kind ? ` ${kind}` : "");
    el.hidden = false;
    if (kind !== "unreadable") offerDelete(null);  // an unreadable image is stored too
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

  function percent(p) {
    return `${Math.round(p * 100)}%`;
  }

  function shown(symbol) {
    return DISPLAY[symbol] || symbol;
  }

  function describe(sym) {
    const alts = (sym.alternatives || []).map((a) => `${shown(a.symbol)} (${percent(a.confidence)})`);
    return `${shown(sym.symbol)}: ${percent(sym.confidence)}` +
      (alts.length ? `; or ${alts.join(", ")}` : "");
  }

  function showResult(data, dataUrl) {
    $("error").hidden = true;
    offerDelete(data);
    output.dataset.state = data.status;
    output.dataset.status = data.status;
    const answer = $("answer");
    if (data.status === "unreadable") {
      showError(data.message || "No expression found in the image.", "unreadable",
        "Write larger and darker, on one line, and crop close around it.");
    } else {
      answer.hidden = false;
      renderMath(data.latex || "", $("math"), true);
      $("expression-text").textContent = data.expression || "";
      const outcome = $("outcome");
      outcome.textContent = "";
      outcome.className = "outcome";
      if (data.verdict === true || data.verdict === false) {
        outcome.classList.add(data.verdict ? "verdict-true" : "verdict-false");
        outcome.textContent = data.verdict ? "✓ True" : "✗ False";
        outcome.setAttribute("aria-label", data.verdict
          ? "The equation is true" : "The equation is false");
      } else if (data.result !== null && data.result !== undefined && data.result !== "") {
        outcome.removeAttribute("aria-label");
        const exact = document.createElement("span");
        exact.className = "exact";
        exact.textContent = `= ${data.result}`;
        outcome.append(exact);
        if (data.result_decimal && data.result_decimal !== data.result) {
          const dec = document.createElement("span");
          dec.className = "decimal";
          dec.textContent = `≈ ${data.result_decimal}`;
          outcome.append(dec);
        }
      }
      // A solved answer speaks for itself; otherwise say why it could not be computed.
      $("message").textContent = data.status === "solved" ? ""
        : data.message || "Read, but it cannot be computed.";
      const list = $("computations");
      list.replaceChildren();
      for (const c of data.computations || []) {
        const li = document.createElement("li");
        const name = document.createElement("span");
        name.className = "name";
        name.textContent = c.name;
        const math = document.createElement("span");
        renderMath(c.result || "", math, false);
        li.append(name, math);
        list.append(li);
      }
      const conf = Number(data.confidence) || 0;
      $("confidence-meter").value = conf;
      $("confidence-text").textContent = percent(conf);
    }
    if (data.status !== "unreadable" || (data.symbols || []).length) {
      showFigure(data.symbols || [], dataUrl);
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
    const pad = Math.max(8, 0.25 * (y1 - y0));
    x0 = Math.max(0, x0 - pad);
    x1 = Math.min(W, x1 + pad);
    y0 = Math.min(Math.max(0, y0 - pad), y0 - 1.4 * font);
    y1 = Math.min(H, y1 + pad);
    return [x0, y0, x1 - x0, y1 - y0];
  }

  function showFigure(symbols, dataUrl) {
    const figure = $("figure");
    const svg = $("boxes");
    const list = $("symbols");
    const NS = "http://www.w3.org/2000/svg";
    svg.replaceChildren();
    svg.removeAttribute("data-ready");
    list.replaceChildren();
    figure.hidden = false;
    const picture = new Image();
    picture.onload = () => {
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
        const low = sym.confidence < LOW_CONFIDENCE;
        const g = document.createElementNS(NS, "g");
        g.setAttribute("class", low ? "symbol-box low" : "symbol-box");
        g.dataset.index = String(i);
        // The list is built before the picture loads: a symbol focused or hovered
        // meanwhile must find its box highlighted once the box exists.
        const item = list.children[i];
        if (item && item.matches(":focus, :hover")) g.classList.add("active");
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
    };
    picture.src = dataUrl;

    $("unsure-note").hidden = !symbols.some((sym) => sym.confidence < LOW_CONFIDENCE);
    symbols.forEach((sym, i) => {
      const low = sym.confidence < LOW_CONFIDENCE;
      const li = document.createElement("li");
      li.className = low ? "symbol low" : "symbol";
      li.tabIndex = 0;
      li.dataset.index = String(i);
      li.title = describe(sym);
      li.setAttribute("aria-label", (low ? "Unsure, " : "") + describe(sym));
      const glyph = document.createElement("span");
      glyph.className = "glyph";
      glyph.textContent = shown(sym.symbol);
      const prob = document.createElement("span");
      prob.className = "prob";
      prob.textContent = percent(sym.confidence);
      li.append(glyph, prob);
      if (low && sym.alternatives && sym.alternatives.length) {
        const tip = document.createElement("span");
        tip.className = "tip";
        tip.setAttribute("role", "tooltip");
        tip.textContent = "or " + sym.alternatives
          .map((a) => `${shown(a.symbol)} (${percent(a.confidence)})`).join(", ");
        li.append(tip);
      }
      const activate = (on) => {
        const g = svg.querySelector(`g[data-index="${i}"]`);
        if (g) g.classList.toggle("active", on);
      };
      li.addEventListener("mouseenter", () => activate(true));
      li.addEventListener("mouseleave", () => activate(false));
      li.addEventListener("focus", () => activate(true));
      li.addEventListener("blur", () => activate(false));
      list.append(li);
    });
  }
})();

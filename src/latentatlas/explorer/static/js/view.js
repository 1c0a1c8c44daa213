/* The map's transform between data coordinates (x right, y up) and canvas pixels (x right, y down):
     screen x = width / 2 + (x - cx) * scale,   screen y = height / 2 - (y - cy) * scale
   and the mouse, wheel, touchpad and touch gestures that change it. Canvas pixels are CSS pixels. */
"use strict";

LA.View = class {
  constructor() {
    this.scale = 1; this.cx = 0; this.cy = 0; this.width = 1; this.height = 1;
    this.fitScale = 1;
  }

  /** Centre the bounding box of the points (x, y interleaved) with a 5% margin. */
  fit(coords, n) {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < n; i++) {
      const x = coords[2 * i], y = coords[2 * i + 1];
      if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
    }
    if (!(x1 >= x0)) { x0 = -1; x1 = 1; y0 = -1; y1 = 1; }
    const w = Math.max(x1 - x0, 1e-9), h = Math.max(y1 - y0, 1e-9);
    this.cx = (x0 + x1) / 2; this.cy = (y0 + y1) / 2;
    this.scale = 0.9 * Math.min(this.width / w, this.height / h);
    this.fitScale = this.scale;
  }

  toScreen(x, y) { return [this.width / 2 + (x - this.cx) * this.scale, this.height / 2 - (y - this.cy) * this.scale]; }
  toData(px, py) { return [this.cx + (px - this.width / 2) / this.scale, this.cy - (py - this.height / 2) / this.scale]; }

  /** Zoom by `factor` keeping the data point under (px, py) in place. */
  zoomAt(px, py, factor) {
    const [x, y] = this.toData(px, py);
    this.scale = Math.min(Math.max(this.scale * factor, this.fitScale * 1e-3), this.fitScale * 1e6);
    this.cx = x - (px - this.width / 2) / this.scale;
    this.cy = y + (py - this.height / 2) / this.scale;
  }

  panBy(dx, dy) { this.cx -= dx / this.scale; this.cy += dy / this.scale; }

  /** How far in from the fitted view: 1 = fitted. */
  get zoom() { return this.scale / this.fitScale; }

  snapshot() {
    return { scale: this.scale, cx: this.cx, cy: this.cy, width: this.width, height: this.height };
  }
};

/* Gestures on an element: drag (pointer), wheel / pinch zoom, two-finger touch pinch. Calls back
   onChange() after each change of the view; the current tool decides whether a drag pans (see main.js). */
LA.attachGestures = function (el, view, hooks) {
  const pointers = new Map(); // pointerId -> [x, y] (touch pinch)
  let pinchDist = 0;
  const local = (e) => { const r = el.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };

  el.addEventListener("wheel", (e) => {
    e.preventDefault();
    const [px, py] = local(e);
    // deltaMode 1 = lines (a mouse wheel in some browsers); a touchpad pinch arrives as a wheel with ctrlKey.
    const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    view.zoomAt(px, py, Math.exp(-dy * (e.ctrlKey ? 0.01 : 0.0015)));
    hooks.onChange();
  }, { passive: false });

  el.addEventListener("pointerdown", (e) => {
    el.setPointerCapture(e.pointerId);
    pointers.set(e.pointerId, local(e));
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      pinchDist = Math.hypot(a[0] - b[0], a[1] - b[1]);
      hooks.onDragCancel();
    } else hooks.onDragStart(local(e), e);
  });
  el.addEventListener("pointermove", (e) => {
    const p = local(e);
    if (pointers.size === 2 && pointers.has(e.pointerId)) {
      pointers.set(e.pointerId, p);
      const [a, b] = [...pointers.values()];
      const d = Math.hypot(a[0] - b[0], a[1] - b[1]);
      if (pinchDist > 0) view.zoomAt((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, d / pinchDist);
      pinchDist = d;
      hooks.onChange();
      return;
    }
    if (pointers.has(e.pointerId)) { pointers.set(e.pointerId, p); hooks.onDragMove(p, e); }
    else hooks.onHover(p, e);
  });
  const end = (e) => {
    if (!pointers.has(e.pointerId)) return;
    const wasPinch = pointers.size === 2;
    pointers.delete(e.pointerId);
    if (!wasPinch && pointers.size === 0) hooks.onDragEnd(local(e), e);
  };
  el.addEventListener("pointerup", end);
  el.addEventListener("pointercancel", (e) => { pointers.delete(e.pointerId); hooks.onDragCancel(); });
  el.addEventListener("pointerleave", () => { if (!pointers.size) hooks.onLeave(); });
};

/* Vector marks over the scatter, redrawn with every view change (a few hundred paths at most):
   class coverage ellipses, the clicked point and its neighbours, the hovered point, the selection being drawn,
   and in latent mode the morph's end points and path. */
"use strict";

LA.Overlay = class {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
  }

  resize(W, H) { this.canvas.width = Math.max(1, Math.floor(W)); this.canvas.height = Math.max(1, Math.floor(H)); }

  /** Draw everything in `scene` (see main.js: ellipses, hovered, clicked, neighbours, drag, morph). */
  draw(scene, view) {
    const ctx = this.ctx;
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (scene.ellipses) this.ellipses(scene.ellipses, scene.classColor, scene.hiddenClass, view);
    if (scene.neighbours) {
      for (const i of scene.neighbours) this.ring(scene.coords, i, view, 6, "#ff6a00", 2);
    }
    if (scene.clicked >= 0) this.ring(scene.coords, scene.clicked, view, 8, "#111", 2.5);
    if (scene.hovered >= 0) this.ring(scene.coords, scene.hovered, view, 6, "#111", 1);
    if (scene.drag) this.dragShape(scene.drag);
    if (scene.morph) this.morph(scene.morph, view);
  }

  ellipses(list, classColor, hidden, view) {
    const ctx = this.ctx;
    ctx.lineWidth = 1.5;
    for (const e of list) {
      if (hidden && hidden(e.cls)) continue;
      const [sx, sy] = view.toScreen(e.center[0], e.center[1]);
      ctx.strokeStyle = LA.colors.css(classColor(e.cls));
      ctx.beginPath();
      // y is flipped on screen, so an angle measured counter-clockwise in data is clockwise on screen.
      ctx.ellipse(sx, sy, e.semi_axes[0] * view.scale, e.semi_axes[1] * view.scale,
        (-e.angle_deg * Math.PI) / 180, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.fillStyle = ctx.strokeStyle;
      ctx.beginPath(); ctx.arc(sx, sy, 2.5, 0, 2 * Math.PI); ctx.fill();
    }
  }

  ring(coords, i, view, r, color, width) {
    const ctx = this.ctx;
    const [sx, sy] = view.toScreen(coords[2 * i], coords[2 * i + 1]);
    ctx.strokeStyle = "#fff"; ctx.lineWidth = width + 2;
    ctx.beginPath(); ctx.arc(sx, sy, r, 0, 2 * Math.PI); ctx.stroke();
    ctx.strokeStyle = color; ctx.lineWidth = width;
    ctx.beginPath(); ctx.arc(sx, sy, r, 0, 2 * Math.PI); ctx.stroke();
  }

  dragShape(drag) {
    const ctx = this.ctx;
    ctx.strokeStyle = "#2b6cb0"; ctx.lineWidth = 1.5; ctx.setLineDash([5, 4]);
    ctx.fillStyle = "rgba(43, 108, 176, 0.08)";
    ctx.beginPath();
    if (drag.kind === "box") {
      const [a, b] = drag.points;
      ctx.rect(Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1]));
    } else {
      drag.points.forEach(([x, y], k) => (k ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.closePath();
    }
    ctx.fill(); ctx.stroke(); ctx.setLineDash([]);
  }

  /** Morph: end points as crosses, the path's steps (plane coordinates) as dots framed by validity. */
  morph(m, view) {
    const ctx = this.ctx;
    if (m.path) {
      ctx.strokeStyle = "rgba(0,0,0,0.5)"; ctx.lineWidth = 1;
      ctx.beginPath();
      m.path.forEach(([x, y], k) => { const [sx, sy] = view.toScreen(x, y); k ? ctx.lineTo(sx, sy) : ctx.moveTo(sx, sy); });
      ctx.stroke();
      m.path.forEach(([x, y], k) => {
        const [sx, sy] = view.toScreen(x, y);
        ctx.fillStyle = m.valid && m.valid[k] !== undefined ? (m.valid[k] ? "#2f9e44" : "#e03131") : "#555";
        ctx.beginPath(); ctx.arc(sx, sy, 3.5, 0, 2 * Math.PI); ctx.fill();
      });
    }
    for (const [x, y] of m.ends) {
      const [sx, sy] = view.toScreen(x, y);
      ctx.strokeStyle = "#111"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(sx - 6, sy - 6); ctx.lineTo(sx + 6, sy + 6);
      ctx.moveTo(sx + 6, sy - 6); ctx.lineTo(sx - 6, sy + 6); ctx.stroke();
    }
  }
};

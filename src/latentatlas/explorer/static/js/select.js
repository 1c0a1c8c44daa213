/* Box and lasso selection: which visible points lie inside (tested in data coordinates, so the answer does
   not depend on pixels), their class counts, and the selected indices as a CSV file. */
"use strict";

LA.select = (function () {
  /** Visible points inside the data-space box [x0, x1] x [y0, y1] (edges included). */
  function inBox(ds, visible, box) {
    const [x0, y0, x1, y1] = box, xy = ds.coords, out = [];
    for (let i = 0; i < ds.n; i++) {
      if (!visible[i]) continue;
      const x = xy[2 * i], y = xy[2 * i + 1];
      if (x >= x0 && x <= x1 && y >= y0 && y <= y1) out.push(i);
    }
    return out;
  }

  /** Visible points inside a polygon (data coordinates, even-odd rule). */
  function inPolygon(ds, visible, poly) {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const [x, y] of poly) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    const xy = ds.coords, out = [], m = poly.length;
    for (let i = 0; i < ds.n; i++) {
      if (!visible[i]) continue;
      const x = xy[2 * i], y = xy[2 * i + 1];
      if (x < x0 || x > x1 || y < y0 || y > y1) continue;
      let inside = false;
      for (let a = 0, b = m - 1; a < m; b = a++) {
        const [xa, ya] = poly[a], [xb, yb] = poly[b];
        if ((ya > y) !== (yb > y) && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) inside = !inside;
      }
      if (inside) out.push(i);
    }
    return out;
  }

  /** A selection from a finished drag: kind "box" (two screen corners) or "lasso" (screen polygon). */
  function fromDrag(ds, visible, view, drag) {
    if (drag.kind === "box") {
      const [a, b] = drag.points.map(([x, y]) => view.toData(x, y));
      const box = [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])];
      return { kind: "box", box, indices: inBox(ds, visible, box) };
    }
    const poly = drag.points.map(([x, y]) => view.toData(x, y));
    return { kind: "lasso", polygon: poly, indices: poly.length >= 3 ? inPolygon(ds, visible, poly) : [] };
  }

  /** {class name: count} of the selected points, classes in code order, zero counts left out. */
  function classCounts(ds, indices) {
    if (!ds.labels) return {};
    const c = new Uint32Array(ds.classNames.length);
    for (const i of indices) c[ds.labels[i]]++;
    const out = {};
    ds.classNames.forEach((name, k) => { if (c[k]) out[name] = c[k]; });
    return out;
  }

  /** CSV text: index and label (when the points have labels), one selected point per line. */
  function csv(ds, indices) {
    const quote = (s) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    const lines = [ds.labels ? "index,label" : "index"];
    for (const i of indices) lines.push(ds.labels ? `${i},${quote(ds.classNames[ds.labels[i]])}` : String(i));
    return lines.join("\n") + "\n";
  }

  /** Offer `text` as a download named `name` (works from file://: a Blob URL, no request). */
  function download(text, name) {
    const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    const a = LA.panels.el("a", { href: url, download: name });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  /** The selection panel: count, class counts, save and clear buttons. */
  function panel(box, ds, sel, actions) {
    const { el } = LA.panels;
    box.replaceChildren();
    box.append(el("p", null, `${sel.indices.length.toLocaleString()} points selected (${sel.kind})`));
    const counts = classCounts(ds, sel.indices);
    if (Object.keys(counts).length) {
      const t = el("table", { class: "small", id: "selection-counts" });
      for (const [name, c] of Object.entries(counts)) {
        const tr = el("tr", { "data-class": name });
        tr.append(el("td", null, name), el("td", { class: "num" }, String(c)));
        t.append(tr);
      }
      box.append(t);
    }
    const save = el("button", { id: "save-selection" }, "Save selected indices as CSV");
    save.addEventListener("click", actions.save);
    const clear = el("button", { id: "clear-selection" }, "Clear");
    clear.addEventListener("click", actions.clear);
    box.append(save, " ", clear);
    if (actions.status) box.append(el("p", { class: "note", id: "selection-status" }, actions.status));
  }

  return { inBox, inPolygon, fromDrag, classCounts, csv, download, panel };
})();

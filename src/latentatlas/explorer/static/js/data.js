/* Data loading. Pages opened from file:// may run local scripts but may not fetch local files, so the data comes
   as scripts: data/manifest.js calls LATENTATLAS.manifest({...}) and each data/NNN-name.js calls
   LATENTATLAS.chunk(name, value), value being a base64 string (a little-endian typed array), a data: URI (a
   thumbnail sheet) or a JSON list. LA.data.load() turns the manifest's references {chunk, dtype, shape} into typed
   arrays and returns one dataset object that the other files read. */
"use strict";

window.LATENTATLAS = {
  _manifest: null,
  _chunks: Object.create(null),
  manifest(m) { this._manifest = m; },
  chunk(name, value) { this._chunks[name] = value; },
};
window.LA = window.LA || {};

LA.data = (function () {
  const TYPES = {
    float32: Float32Array, float64: Float64Array, uint8: Uint8Array, uint16: Uint16Array,
    uint32: Uint32Array, int32: Int32Array,
  };

  /** base64 text -> bytes (the built-in decoder when the browser has one). */
  function bytes(b64) {
    if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(b64);
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  /** The raw value of a chunk reference, dropped from the store afterwards (frees the base64 text). */
  function take(ref) {
    const value = LATENTATLAS._chunks[ref.chunk];
    if (value === undefined) throw new Error("explorer data chunk missing: " + ref.chunk);
    delete LATENTATLAS._chunks[ref.chunk];
    return value;
  }

  /** A typed array from a reference {chunk, dtype, shape}, or null. */
  function array(ref) {
    if (!ref) return null;
    const b = bytes(take(ref));
    const T = TYPES[ref.dtype];
    return new T(b.buffer, b.byteOffset, b.byteLength / T.BYTES_PER_ELEMENT);
  }

  /** Thumbnail sheets as decoded <img> elements (resolves once all have loaded). */
  function sheets(thumbs) {
    return Promise.all(thumbs.sheets.map((name) => new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error("thumbnail sheet did not load: " + name));
      img.src = take({ chunk: name });
    })));
  }

  /** Everything the page needs, from the loaded scripts. Resolves to the dataset object. */
  async function load() {
    const m = LATENTATLAS._manifest;
    if (!m) throw new Error("explorer data missing: data/manifest.js did not run");
    const ds = {
      m, n: m.n, coords: array(m.coords), labels: array(m.labels), classNames: m.class_names,
      metadata: m.metadata.map((c) => c.kind === "numeric"
        ? { name: c.name, kind: "numeric", values: array(c.values) }
        : { name: c.name, kind: "categorical", codes: array(c.codes), categories: take(c.categories) }),
      quantities: m.quantities.map((q) => ({ name: q.name, kind: "numeric", values: array(q.values) })),
      nn: m.neighbours && { k: m.neighbours.k, index: array(m.neighbours.index),
        distance: array(m.neighbours.distance) },
      thumbs: null, latent: null,
    };
    if (m.thumbnails) ds.thumbs = Object.assign({}, m.thumbnails, { images: await sheets(m.thumbnails) });
    if (m.latent) {
      const L = m.latent;
      ds.latent = Object.assign({}, L, {
        latents: array(L.latents),
        planes: L.planes.map((p) => Object.assign({}, p, {
          images: array(p.images), valid: array(p.valid), coords: array(p.coords),
        })),
      });
    }
    return ds;
  }

  return { load, array, bytes, TYPES };
})();

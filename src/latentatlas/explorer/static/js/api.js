/* The local server's JSON endpoints (only when the page is served by `latentatlas explore --serve`; a page
   opened from file:// never makes a request). Every call rejects with the server's one-line error. */
"use strict";

LA.api = {
  served: false,
  info: null,

  /** Ask /api/info whether a latentatlas server is behind this page. */
  async init() {
    if (!/^https?:$/.test(location.protocol)) return false;
    try {
      const r = await fetch("api/info");
      if (r.ok) { this.info = await r.json(); this.served = this.info.server === "latentatlas"; }
    } catch (e) { this.served = false; }
    return this.served;
  },

  async post(path, body) {
    const r = await fetch("api/" + path, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const j = await r.json().catch(() => ({ error: r.statusText }));
    if (!r.ok) throw new Error(j.error || r.statusText);
    return j;
  },

  neighbours(index, k) { return this.post("neighbours", { index, k }); },
  /** Decode latents z (M rows of L numbers); validOnly skips the images. */
  decode(z, validOnly) { return this.post("decode", { z, valid_only: !!validOnly }); },
  morph(z0, z1, steps, mode) { return this.post("morph", { z0, z1, steps, mode }); },
  selection(indices, name) { return this.post("selection", { indices, name }); },
  agreement(k) { return this.post("agreement", { k }); },
};

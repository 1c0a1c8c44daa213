#!/usr/bin/env bash
# Build the wheel as users get it, install it into a fresh venv next to the CPU torch, and run the commands a user
# runs first, from a folder outside the repository: the built-in configs and every shipped asset must come from the
# installed package, not from the source tree.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
py=${PY:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$repo"
"$repo/.venv/bin/python" -m build --wheel --outdir "$work/dist" . >"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; exit 1; }
wheel=$(ls "$work"/dist/latentatlas-*.whl)
echo "built $(basename "$wheel")"
"$py" -m venv "$work/venv"
"$work/venv/bin/pip" install -q --upgrade pip
"$work/venv/bin/pip" install -q "torch==2.13.0"  # the CPU build on this disk first, as the Makefile does
"$work/venv/bin/pip" install -q "$wheel"
cd "$work"  # outside the repository: nothing can come from src/ or configs/
bin="$work/venv/bin"
"$bin/python" - <<'PY'
import latentatlas, latentatlas.configs as c
assert "site-packages" in latentatlas.__file__, latentatlas.__file__
assert c.builtin_configs(), "no built-in config in the wheel"
print("installed", latentatlas.__version__, "from", latentatlas.__file__, "configs:", ", ".join(c.builtin_configs()))
PY
"$bin/latentatlas" --version
"$bin/latentatlas" demo --runs-root runs --no-progress train.epochs=2 data.n_train=64 data.n_val=32 \
  analysis.grid_n=4 analysis.n_samples=16 analysis.n_morphs=1 | tail -2
"$bin/latentatlas" train shapes-vae --runs-root runs train.epochs=1 data.n_train=32 data.n_val=16 \
  analysis.grid_n=3 analysis.n_samples=8 analysis.n_morphs=1 train.progress=false | tail -1
"$bin/python" -c "import numpy as np; r=np.random.default_rng(0); np.savez('emb.npz', embeddings=r.normal(size=(60, 8)), labels=np.repeat(np.arange(3), 20))"
"$bin/latentatlas" analyze emb.npz --out analysis | tail -1
test -s analysis/report.html && test -s analysis/analysis.json
"$bin/python" -c "import latentatlas, numpy as np; a = latentatlas.analyze(np.random.default_rng(1).normal(size=(40, 5)), np.arange(40) % 2); print('latentatlas.analyze: margin', round(a.distances.margin, 4)); a.save('py-analysis')"
test -s py-analysis/report.html
# the explorer: its page (package data explorer/static/) and data files from the installed wheel, folder and single file
"$bin/python" -c "import numpy as np; r=np.random.default_rng(2); np.savez('points.npz', embeddings=r.normal(size=(200, 16)).astype('float32'), labels=np.repeat(np.arange(4), 50), weight=r.random(200), images=r.integers(0, 256, (200, 8, 8), dtype=np.uint8))"
"$bin/latentatlas" explore points.npz --out explorer | tail -1
for f in index.html explorer.css data/manifest.js js/data.js js/main.js; do test -s "explorer/$f" || { echo "explorer/$f missing"; exit 1; }; done
test "$(ls explorer/data/*.js | wc -l)" -ge 8 && ls explorer/data/*-atlas0.js >/dev/null
"$bin/latentatlas" explore points.npz --out mail --single-file | tail -1
test -s mail/explorer.html
run=$(ls -d runs/*-shapes-vae | tail -1)
"$bin/latentatlas" explore "$run" --grid 8 | tail -1
test -s "$run/explorer/index.html" && grep -q 'href="explorer/index.html"' "$run/report.html"
echo "dist-check: the wheel installs and runs outside the repository"

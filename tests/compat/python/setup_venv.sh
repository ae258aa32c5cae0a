#!/usr/bin/env bash
# Creates (once) the virtualenv the Python SDK compatibility suite runs in:
#   <checkout>/.cache/venv-compat  with codemie-sdk-python (from PyPI, unmodified) and pytest.
# Idempotent: a venv whose installed requirements match requirements.txt is reused as is.
# Prints the venv's python path on the last line of stdout.
#
# The SDK declares Requires-Python >=3.12 but works on 3.11, so it is installed with
# --ignore-requires-python. Needs `python3 -m venv` (Debian/Ubuntu: apt-get install python3-venv).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
venv="${CODEMIE_COMPAT_VENV:-$root/.cache/venv-compat}"
req="$here/requirements.txt"
python="${PYTHON:-python3}"
stamp="$venv/.requirements.sha256"
want="$( (cat "$req"; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "venv up to date: $venv" >&2
  echo "$venv/bin/python"
  exit 0
fi

if ! command -v "$python" >/dev/null 2>&1; then
  echo "setup_venv: '$python' not found; install Python 3.11+ (or set PYTHON=...)." >&2
  exit 2
fi
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "setup_venv: $("$python" --version 2>&1) is too old; the SDK needs Python 3.11 or newer." >&2
  exit 2
fi

# A working venv whose requirements changed is updated in place (pip install is additive), so
# checkouts with different requirements can share one venv; a broken one is made again.
if ! { [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; }; then
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  if ! "$python" -m venv "$venv" >&2; then
    echo "setup_venv: '$python -m venv' failed. On Debian/Ubuntu install the venv module: apt-get install python3-venv" >&2
    rm -rf "$venv"
    exit 2
  fi
fi

pip=("$venv/bin/python" -m pip --disable-pip-version-check --no-input)
if ! "${pip[@]}" install -q --ignore-requires-python -r "$req" >&2; then
  # Tell "PyPI unreachable" apart from other failures.
  index="${PIP_INDEX_URL:-https://pypi.org/simple}"
  if ! "$venv/bin/python" - "$index" >/dev/null 2>&1 <<'EOF'
import sys, urllib.request
urllib.request.urlopen(sys.argv[1].rstrip('/') + '/codemie-sdk-python/', timeout=15)
EOF
  then
    echo "setup_venv: PyPI ($index) is unreachable: cannot install codemie-sdk-python. Check the network/proxy (PIP_INDEX_URL)." >&2
  else
    echo "setup_venv: pip install -r $req failed (see above)." >&2
  fi
  exit 3
fi
echo "$want" >"$stamp"
echo "venv ready: $venv" >&2
echo "$venv/bin/python"

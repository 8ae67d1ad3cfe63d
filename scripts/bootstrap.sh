#!/usr/bin/env bash
# Installs everything ccbox needs on a fresh Debian 12 machine: Debian packages,
# a Python venv with the project and its dev tools. Idempotent; re-running is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3-venv python3-dev gcc pkg-config
  libsystemd-dev libasound2-dev          # systemd-python, pyalsaaudio build from source
  sip-tester baresip-core                # real SIP peers for the tests
  libpri-dev libspandsp-dev              # ISDN PRI and DSP (ctypes)
  libopenr2-dev                          # MFC/R2 (China No.1) via ctypes
  qemu-system-x86 debootstrap e2fsprogs  # the VM tier: real DAHDI in qemu (image/testvm.py)
  tshark sox espeak-ng
  chromium fonts-wqy-microhei            # browser tests: Debian's build (never a downloaded one), CJK glyphs for screenshots
)
# Playwright (npm) needs node >= 18; Debian 12's nodejs + npm do. A machine that already
# has node and npm (e.g. from NodeSource) keeps them: Debian's npm would conflict.
command -v node >/dev/null 2>&1 || APT_PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(npm)

need_apt=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$p")
done
if ((${#need_apt[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "ccbox: installing Debian packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.ccbox-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  touch "$stamp"
fi

# playwright-core only (package-lock.json pins it). It never downloads a browser: the
# tests point it at /usr/bin/chromium. The stamp makes a re-run free.
npm_stamp=node_modules/.ccbox-installed
if [ ! -f "$npm_stamp" ] || [ package-lock.json -nt "$npm_stamp" ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
  touch "$npm_stamp"
fi

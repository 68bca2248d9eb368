#!/usr/bin/env bash
# Sets berth up on this host: Node.js 24 if the machine's is too old, a build of this checkout,
# the code under /opt/berth, `berth` on the PATH, the generator in systemd's system and user
# generator directories, /etc/berth, and a daemon-reload. Idempotent; --uninstall reverses it
# and leaves the definitions in /etc/berth alone.
set -euo pipefail

PREFIX=${BERTH_PREFIX:-/opt/berth}
BIN_DIR=${BERTH_BIN_DIR:-/usr/local/bin}
SYSTEM_GENERATORS=/usr/lib/systemd/system-generators
USER_GENERATORS=/usr/lib/systemd/user-generators
SRC=$(cd "$(dirname "$0")" && pwd)

say() { printf 'berth install: %s\n' "$*"; }
die() { printf 'berth install: error: %s\n' "$*" >&2; exit 1; }
systemd_running() { [ -d /run/systemd/system ] && [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; }

uninstall() {
  if systemd_running; then
    systemctl disable --now berthd.service >/dev/null 2>&1 || true
  fi
  rm -f "$SYSTEM_GENERATORS/berth-generator" "$USER_GENERATORS/berth-generator" \
        "$BIN_DIR/berth" "$BIN_DIR/berthd" /etc/systemd/system/berthd.service
  rm -rf "$PREFIX"
  if systemd_running; then systemctl daemon-reload; fi
  say "removed berth; definitions in /etc/berth were left in place"
}

[ "$(id -u)" -eq 0 ] || die "run as root (sudo ./install.sh)"
if [ "${1:-}" = "--uninstall" ]; then uninstall; exit 0; fi

# Prerequisites: say everything that is missing at once.
missing=()
command -v npm >/dev/null || missing+=("npm (apt-get install npm)")
command -v docker >/dev/null || missing+=("the docker CLI (apt-get install docker.io)")
[ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]}"

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 22 ]; then
  say "Node.js ${major} is too old (berth needs 24, or 22); installing node@24 into /usr/local"
  npm install -g --prefix /usr/local node@24 >/dev/null 2>&1 || die "cannot install node@24 with npm"
  hash -r
fi
export PATH="/usr/local/bin:$PATH"
NODE=$(command -v node)
say "using $NODE $(node --version)"

say "building in $SRC"
(cd "$SRC" && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)

say "installing into $PREFIX"
stage="$PREFIX.new"
rm -rf "$stage"
mkdir -p "$stage"
cp -a "$SRC/bin" "$SRC/dist" "$SRC/package.json" "$SRC/package-lock.json" "$stage/"
[ -d "$SRC/units" ] && cp -a "$SRC/units" "$stage/"
(cd "$stage" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
rm -rf "$PREFIX.old"
[ -d "$PREFIX" ] && mv "$PREFIX" "$PREFIX.old"
mv "$stage" "$PREFIX"
rm -rf "$PREFIX.old"

mkdir -p "$BIN_DIR" "$SYSTEM_GENERATORS" "$USER_GENERATORS" /etc/berth
ln -sfn "$PREFIX/bin/berth" "$BIN_DIR/berth"
ln -sfn "$PREFIX/bin/berth-generator" "$SYSTEM_GENERATORS/berth-generator"
ln -sfn "$PREFIX/bin/berth-generator" "$USER_GENERATORS/berth-generator"

if systemd_running; then
  systemctl daemon-reload
  say "systemd reloaded; definitions in /etc/berth are now units"
else
  say "systemd is not running as init here; units appear at the next boot or daemon-reload"
fi
say "done: $(berth --version 2>/dev/null || echo berth) is installed"

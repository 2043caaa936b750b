#!/bin/sh
# Prints shell lines that put a supported Node.js (22 or 24+) first on PATH, for `eval`:
#
#   eval "$(scripts/node.sh)"        # your Node if it is 22 or newer, else Node 24 (the .nvmrc line)
#   eval "$(scripts/node.sh 22)"     # exactly this major line (CI runs the suite on 22 and 24)
#
# A Node that is missing or too old (Node 20 reached end of life in April 2026) is fetched from the
# npm registry, which ships official Node builds as the packages node-<os>-<arch> (bin/node plus the
# headers in include/node). It is kept in ~/.cache/smtp-oauth/node-<major> and reused. Native addons
# (better-sqlite3) then build from source against those headers: npm_config_nodedir points at them,
# because node-gyp would otherwise try to download headers from nodejs.org.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
want=${1:-}
default_major=$(tr -dc '0-9' <"$root/.nvmrc")
have_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)

if [ -z "$want" ] && [ "$have_major" -ge 22 ]; then
  echo "# using $(command -v node) $(node --version)" >&2
  exit 0
fi
[ -n "$want" ] || want=$default_major
if [ "$have_major" = "$want" ]; then
  echo "# using $(command -v node) $(node --version)" >&2
  exit 0
fi

case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) echo "echo 'unsupported OS: install Node $want yourself' >&2; false"; exit 1 ;; esac
case "$(uname -m)" in x86_64 | amd64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) echo "echo 'unsupported CPU: install Node $want yourself' >&2; false"; exit 1 ;; esac
pkg="node-$os-$arch"
cache=${SMTP_OAUTH_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smtp-oauth}/node-$want
dir="$cache/node_modules/$pkg"
if [ ! -x "$dir/bin/node" ]; then
  echo "# fetching Node $want ($pkg@$want) from the npm registry into $cache" >&2
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-save --no-audit --no-fund --loglevel=error "$pkg@$want" >&2
fi
# npm itself is a script run by whichever `node` is first on PATH, so the fetched Node also runs npm,
# and `npm i -g` puts global tools (pnpm) into $dir/bin, which is on PATH too.
echo "export PATH=\"$dir/bin:\$PATH\""
echo "export npm_config_nodedir=\"$dir\""
echo "# using $dir/bin/node $("$dir/bin/node" --version)" >&2

#!/usr/bin/env bash
# The newcomer's first command: set everything up, then show libnix on the bundled example crate,
# offline. The example is copied into a temporary git repository and tagged, as a release would be.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/.ci/setup"
libnix="$here/.venv/bin/libnix"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$here/examples/hello" "$work/hello"
cd "$work/hello"
git init -q -b main
git -c user.name=demo -c user.email=demo@example.invalid add -A
git -c user.name=demo -c user.email=demo@example.invalid commit -q -m "hello 0.1.0"
git -c user.name=demo -c user.email=demo@example.invalid tag -a v0.1.0 -m "Release v0.1.0"

echo
echo "== libnix hash --tag v0.1.0 (offline, from the git archive stream)"
"$libnix" hash --tag v0.1.0 --json

echo
echo "== the same tarball as a forge serves it, hashed by nix itself"
git archive --format=tar.gz --prefix=hello-v0.1.0/ v0.1.0 > "$work/hello-v0.1.0.tar.gz"
nix-prefetch-url --unpack "file://$work/hello-v0.1.0.tar.gz" 2>/dev/null

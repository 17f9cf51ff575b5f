#!/usr/bin/env bash
# The newcomer's first command: set everything up, then run the release flow on the bundled example,
# offline. The example crate is copied into a temporary git repository (origin: a GitHub URL, never
# contacted), set up with `libnix init`, tagged, and released from the bundled build system; nix itself
# then checks our hashes.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/.ci/setup"
libnix="$here/.venv/bin/libnix"
export GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.invalid
export GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.invalid

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$here/examples/hello" "$work/hello"
cd "$work/hello"
git init -q -b main
git remote add origin https://github.com/acme/hello.git

echo
echo "== libnix init --defaults: flake.nix (nixpkgs, fenix, cargo (libnix), dev shell), CI workflows"
"$libnix" init --defaults
git add -A
git commit -q -m "hello 0.1.0, wired into a flake by libnix init"
git tag -a v0.1.0 -m "Release v0.1.0"

# what `CARGO_BACKEND=nix cargo build --release` leaves in target/release/nix (see its README)
mkdir -p target/release
cp -r "$here/examples/hello-buildsystem" target/release/nix
rm target/release/nix/README.md

echo
echo "== libnix release --tag v0.1.0 --from target/release/nix"
"$libnix" release --tag v0.1.0 --from target/release/nix

echo "== nix's own hash of the tag tarball as GitHub serves it (git archive), and libnix check against it"
git archive --format=tar.gz --prefix=hello-v0.1.0/ v0.1.0 > "$work/hello-v0.1.0.tar.gz"
LC_ALL=C.UTF-8 nix-prefetch-url --unpack "file://$work/hello-v0.1.0.tar.gz" 2>/dev/null
"$libnix" check libnix-0.1.0+v0.1.0 --tarball "$work/hello-v0.1.0.tar.gz"

echo
echo "== nix fetches the release asset with the hash libnix printed"
asset_hash=$(python3 -c 'import json; print(json.load(open("libnix.json"))["asset_sha256"])')
LC_ALL=C.UTF-8 nix-instantiate --eval --expr \
  "builtins.fetchTarball { url = \"file://$PWD/libnix-0.1.0+v0.1.0.tar.bz2\"; sha256 = \"$asset_hash\"; }"

# what a consumer does with the asset, evaluated as nix would: needs a nixpkgs, which this machine has
# only as ../shared/nix-eval's shim (real nixpkgs lib, thin package set) where that folder is beside us
shared="$here/../shared/nix-eval"
if [ -d "$shared" ]; then
  echo
  echo "== a consumer's view: nix evaluates the asset's flake and its plain caller (their nixpkgs: the shim)"
  bash "$shared/setup.sh" "$work/nix-eval" >/dev/null
  export LC_ALL=C.UTF-8 NIX_CONFIG="substituters ="
  # what the export pins, already in the store as a download would leave it: fenix and the tag's tarball
  nix-prefetch-url --unpack --name source "file://$shared/fenix-6ed03ef4.tar.gz" >/dev/null 2>&1
  nix-prefetch-url --unpack --name source "file://$work/hello-v0.1.0.tar.gz" >/dev/null 2>&1
  "$libnix" check libnix-0.1.0+v0.1.0 --eval --nixpkgs "$work/nix-eval/nixpkgs-shim"
fi

# The toy stdenv's builder: nixpkgs' phases, reduced to what cargo (libnix)'s crates use.
set -eu
cd "$(mktemp -d)"
if [ -n "${buildCommand:-}" ]; then
  eval "$buildCommand"
  exit
fi
set +u
for phase in $phases; do
  if [ -n "${!phase}" ]; then
    eval "${!phase}"
  elif [ "$phase" = unpackPhase ]; then # nixpkgs' default: copy the source tree, enter it
    cp -r "$src" source
    chmod -R u+w source
    cd source
  fi
done

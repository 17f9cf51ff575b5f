"""The names of the files libnix reads and writes, in one place. A leaf: imports nothing."""

CALLER = "cargo_build_caller.nix"  # a generated build system's entry point for consumers
DEPENDENCIES = "Cargo.dependencies.nix"  # native inputs of the crates, the project's and the export's
EXPORT_INFO = "libnix-export.json"  # in an export: entry, root crates, binaries, systems, source pin
MANIFEST = "libnix.json"  # in the project: the export the flake of `libnix init` builds
ANSWERS = ".libnix-answers.yml"  # in the project: the copier answers of `libnix init`
CARGO_LOCK = "Cargo.lock"
FLAKE = "flake.nix"
FLAKE_LOCK = "flake.lock"

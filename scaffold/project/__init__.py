"""What the Rust project says of itself: Cargo.toml, Cargo.lock and rust-toolchain (`manifest`, read with
tomllib: it never runs cargo), the native inputs its crates need (`native_deps`, with its data table
`native_deps.toml`), and the nixpkgs its own flake.lock pins (`flake_lock`).

May import: `scaffold.errors`, `scaffold.fsutil`, `scaffold.nix`, `scaffold.hashing.nixhash`,
`scaffold.buildsystem.pins` (a leaf).
"""

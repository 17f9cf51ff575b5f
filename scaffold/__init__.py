"""libnix: wire Rust projects into nix flakes with cargo (libnix), and release pinned build systems."""

__version__ = "0.1.0"

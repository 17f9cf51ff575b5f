"""nix as a language and as a program: nix code read as a syntax tree (`syntax`, tree-sitter-nix), and the
optional calls to nix's own tools, for verification only (`tool`: which nix, its version, parsing).

May import: `scaffold.errors`, `scaffold.environ`.
"""

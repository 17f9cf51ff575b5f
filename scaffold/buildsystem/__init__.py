"""A generated build system, as cargo (libnix) writes it and as a release exports it: its layout and root
crates (`layout`), the rewrite that pins it (`rules/`, one module per construct) and the checks
(`layout`'s verify, `check` for `libnix check`), with the shared records (`pins`, `findings`), facts
(`crates_io`, `ifd`), the export's flake (`consumer_flake`), nix's evaluation of every consumer form
(`consumer_eval`) and the network check (`online`).

May import: `scaffold.errors`, `scaffold.environ`, `scaffold.nix`, `scaffold.hashing`, `scaffold.git`.
"""

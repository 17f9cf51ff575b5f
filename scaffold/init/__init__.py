"""`libnix init` and `libnix update`: the project's defaults and the copier run (`create`), the template
itself (`template`, over the data in `copier/`), the project's own CI workflows (`workflows`) and the
nixpkgs release branches with their end of support (`nixpkgs_releases`).

May import: `scaffold.errors`, `scaffold.fsutil`, `scaffold.git`, `scaffold.project`, `scaffold.forge`.
Only this package imports copier, and only when a command runs: `libnix --help` does not.
"""

"""The fetchTarball hash, computed as nix computes it and streamed: NAR serialisation (`nar`, with the
SHA-256 it feeds in `digest` and the early files it holds in `spool`), nix's hash formats (`nixhash`),
tar and sparse-file reading (`tarstream`, `sparse`), archives of every kind nix unpacks (`archive`),
downloads (`download`), and the entry points for a directory, a tarball, a URL or a git ref (`sources`).

May import: `scaffold.errors`, `scaffold.git`. Keep it lean: `libnix hash --tag` imports this path only.
"""

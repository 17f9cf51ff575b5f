"""git through its plumbing: starting git cheaply (`spawn`), refs, trees, worktrees and the archive stream
(`repo`, with the empty bare repositories of `gitview/` that `git archive` runs in), and the two roots of a
project (`roots`: the repository's top level and the Rust project's directory).

May import: `scaffold.errors`, `scaffold.environ`. Nothing here is imported at package import time: the
`hash --tag` path pays only for the modules it names.
"""

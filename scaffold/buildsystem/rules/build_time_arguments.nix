# libnix: the rustc arguments a build script left in its output (build-rs-libnix's `nix/rustc-arguments`,
# `nix/rustc-propagated-arguments`), read when the crate is BUILT instead of when it is evaluated (which
# was an import from derivation). The files hold shell words (`--cfg 'feature="a b"'`, `-L "native=$out"`);
# bash expands them in the build as it did when their text was spliced into the rustc command, and hands
# rustc one argument per line through an @argfile. `files`: the files to read, missing ones skipped.
files:
if files == [ ] then
  ""
else
  ''@<(set +x; libnix_words=; for f in ${builtins.concatStringsSep " " files}; do [ ! -f "$f" ] || libnix_words+="$(< "$f") "; done; eval "set -- ''${libnix_words//$'\n'/}"; [ $# -eq 0 ] || printf '%s\n' "$@")''

"""`libnix release`: the pipeline that orchestrates it (`pipeline`), what it made (`result`), the
consumer's snippets (`snippets`), running cargo (libnix)'s generator (`generator`), tags that name a
workspace member (`tags`), and the GitHub Action's outputs and summary (`action`).

May import: everything below it: `scaffold.buildsystem`, `scaffold.hashing`, `scaffold.git`,
`scaffold.forge`, `scaffold.project`, and `scaffold.init.template` (the answers file).
"""

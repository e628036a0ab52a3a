"""`panda-tui serve`: the console in a browser (textual-serve), a JSON API and Prometheus metrics, one token.

Nothing here imports the console's code: the browser console is the real `panda-tui` run as a subprocess;
the API and metrics read the store, and act only through control requests, like the CLI."""

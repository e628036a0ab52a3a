"""The one HTML page: textual-serve's terminal page, without its web font from a third party or inline script."""

from __future__ import annotations

from html import escape
from string import Template

# Adapted from textual-serve's templates/app_index.html (MIT): the same element ids and classes, which its
# textual.js looks for; fonts come from its own static folder, and "restart" is a plain link. Our one script
# (/assets/device-pixels.js) runs first: it keeps xterm's canvases at the pixel ratio xterm draws with.
_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<link rel="stylesheet" href="/static/css/xterm.css">
<script src="/assets/device-pixels.js"></script>
<script src="/static/js/textual.js"></script>
<style>
@font-face { font-family: "Roboto Mono"; font-weight: 100 700;
             src: url("/static/fonts/RobotoMono-VariableFont_wght.ttf") format("truetype"); }
@font-face { font-family: "Roboto Mono"; font-style: italic; font-weight: 100 700;
             src: url("/static/fonts/RobotoMono-Italic-VariableFont_wght.ttf") format("truetype"); }
body { background: #0c181f; margin: 0; }
.dialog-container { position: absolute; width: 100vw; height: 100vh; display: flex; align-items: center;
                    justify-content: center; z-index: 10; }
.shade { position: absolute; width: 100%; height: 100%; background: #0c181f; }
.intro { width: 640px; max-width: 90vw; min-height: 160px; z-index: 20; font: 16px "Roboto Mono", menlo, monospace;
         text-align: center; color: rgba(255, 255, 255, 0.95); background-color: #12232d; display: flex;
         flex-direction: column; align-items: center; justify-content: center; margin: 32px; }
.intro a { padding: 12px 28px; background-color: #5e0ba7; color: rgba(255, 255, 255, 0.95);
           text-decoration: none; margin: 16px; display: block; }
.intro a:hover { background: #ac5af4; }
body.-first-byte .intro-dialog { display: none; }
body .textual-terminal { opacity: 0; transition: opacity 0.3s ease-out; }
body.-first-byte .textual-terminal { opacity: 1; }
.closed-dialog { display: none; }
body.-closed .closed-dialog { display: flex; }
#start { display: none; }
#start.-delay { display: block; }
</style>
</head>
<body>
<div class="dialog-container intro-dialog"><div class="shade"></div>
  <div class="intro"><div>$title</div><a id="start" href="/">Start</a></div></div>
<div class="dialog-container closed-dialog"><div class="shade"></div>
  <div class="intro"><div>Console closed.</div><a href="/">Open again</a></div></div>
<div id="terminal" class="textual-terminal" data-session-websocket-url="$websocket" data-font-size="$font_size"></div>
</body>
</html>
""")

# textual.js injects its styles and xterm sizes its canvas inline; nothing else is allowed from anywhere.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self'; "
       "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def render(title: str, websocket: str, font_size: int) -> str:
    return _PAGE.substitute(title=escape(title), websocket=escape(websocket, quote=True), font_size=font_size)

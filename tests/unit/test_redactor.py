"""The Redactor alone: every form a secret takes in output, and lines cut into pieces around it."""

from __future__ import annotations

import base64
import json
import subprocess
from urllib.parse import quote, quote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from panda_tui.runners.lines import LineAssembler
from panda_tui.secrets import MASK, Redactor

SECRET = 'p@ss "w0rd"\\ with/slash+plus=and spaces'


def test_the_plain_value_and_each_line_of_a_multi_line_one():
    pem = "-----BEGIN KEY-----\nMIIBIjANBgkqhkiG9w0B\n-----END KEY-----"
    mask = Redactor([SECRET, pem])
    assert mask(f"pw={SECRET};") == f"pw={MASK};"
    assert mask("line: MIIBIjANBgkqhkiG9w0B") == f"line: {MASK}"


def test_json_escaped_forms():
    mask = Redactor([SECRET, "two\nlines-here"])
    assert SECRET not in mask(json.dumps({"pw": SECRET}))
    assert json.dumps(SECRET)[1:-1] not in mask(json.dumps({"pw": SECRET}))
    assert mask(json.dumps({"v": "two\nlines-here"})) == '{"v": "***"}'
    accents = Redactor(["naïve-sécret"])
    assert "na\\u00efve" not in accents(json.dumps({"v": "naïve-sécret"}))


def test_url_encoded_forms():
    mask = Redactor([SECRET])
    for encoded in (quote(SECRET, safe=""), quote(SECRET), quote_plus(SECRET), quote(SECRET, safe="").lower()):
        assert mask(f"https://x/?pw={encoded}&next=1") == f"https://x/?pw={MASK}&next=1", encoded


def test_base64_at_every_alignment_as_the_base64_tool_prints_it():
    mask = Redactor([SECRET])
    for prefix in ("", "x", "xy", "xyz", "user:"):
        for suffix in ("", "\n", "!", "ab"):
            printed = subprocess.run(["base64", "-w0"], input=(prefix + SECRET + suffix).encode(),
                                     capture_output=True, check=True).stdout.decode()
            masked = mask(printed)
            assert MASK in masked, (prefix, suffix)
            # what is left visible is at most the characters of the 3-byte groups shared with the bytes around
            assert len(masked) - len(MASK) <= 4 * (len(prefix) + 2) // 3 + 4 * ((len(suffix) + 2) // 3 + 1)
    for prefix in ("", "a", "ab"):
        urlsafe = base64.urlsafe_b64encode((prefix + SECRET).encode()).decode()
        assert MASK in mask(urlsafe)


def test_short_values_are_not_masked():
    assert Redactor(["abc"])("abc") == "abc" and not Redactor(["abc"])


def assemble(text: str, chunk: int, max_line: int, mask: Redactor) -> list[str]:
    """A line fed in chunks, cut where the redactor allows, each piece masked as the log sink does."""
    pieces: list[str] = []
    assembler = LineAssembler(lambda lines: pieces.extend(mask(t) for t in lines), max_line=max_line,
                              cut=mask.safe_cut, hold=mask.hold)
    data = text.encode()
    for start in range(0, len(data), chunk):
        assembler.feed(data[start:start + chunk])
    assembler.close()
    return pieces


def test_a_secret_straddling_the_cut_of_an_overlong_line_is_masked():
    secret = "s3cr3t-straddling-the-cut"
    mask = Redactor([secret])
    line = "y" * 50 + secret + "z" * 100
    for max_line in (40, 55, 60, 64):
        for chunk in (1, 7, 64, 1000):
            pieces = assemble(line, chunk, max_line, mask)
            assert all(secret[:6] not in p for p in pieces), (max_line, chunk, pieces)
            assert sum(p.count(MASK) for p in pieces) == 1
            assert "".join(pieces).replace(MASK, secret) == line


def test_pieces_of_an_overlong_line_do_not_depend_on_how_it_was_chunked():
    mask = Redactor(["0123456789abcdef"])
    line = ("x" * 37 + "0123456789abcdef") * 20
    shapes = {tuple(assemble(line, chunk, 100, mask)) for chunk in (1, 3, 50, 999, 10_000)}
    assert len(shapes) == 1


def test_a_multibyte_character_is_never_split_by_a_cut():
    pieces = assemble("é" * 100, 7, 33, Redactor([]))
    assert "".join(pieces) == "é" * 100 and "\ufffd" not in "".join(pieces)


@settings(max_examples=300, deadline=None)
@given(secret=st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF, blacklist_characters="*.,"),
                     min_size=4, max_size=40),
       before=st.integers(0, 300), after=st.integers(0, 300), chunk=st.integers(1, 90),
       max_line=st.integers(8, 120))
def test_no_cut_ever_lets_a_secret_through(secret, before, after, chunk, max_line):
    mask = Redactor([secret])
    line = "." * before + secret + "," * after
    joined = "".join(assemble(line, chunk, max_line, mask))
    assert secret not in joined and MASK in joined

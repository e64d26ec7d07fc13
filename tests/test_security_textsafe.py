"""The one sanitiser for foreign text (issue 12, holes 2 and 4) and the transport policy."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callwatch.api.policy import InsecureTransportError, check_transport, is_loopback_host
from callwatch.errors import ApiError, CredentialsError, api_error_for
from callwatch.textsafe import is_unsafe, sanitize, sanitize_lines

UNSAFE = {"Cc", "Cf", "Zl", "Zp", "Cs", "Cn"}
# The characters named in the issue: bidi controls and marks, zero-width, BOM, ...
NAMED = ("\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067"
         "\u2068\u2069\u061c\ufeff\u2060\u2061\u2062\u2063\u2064\u180e\u00ad\u2028\u2029"
         "\x1b\x07\x9b\x00\x7f\t\r\n")


def test_every_named_character_is_replaced_visibly() -> None:
    for ch in NAMED:
        assert sanitize(f"a{ch}b") == "a?b", hex(ord(ch))


def test_every_code_point_of_an_unsafe_category_is_replaced_and_no_other() -> None:
    wrong = [hex(cp) for cp in range(sys.maxunicode + 1)
             if (sanitize(chr(cp)) == "?") != (unicodedata.category(chr(cp)) in UNSAFE)
             and chr(cp) != "?"]
    assert wrong == []


@given(st.text(alphabet=st.characters(codec=None), max_size=200))
def test_no_unsafe_character_survives_and_printable_text_is_unchanged(text: str) -> None:
    out = sanitize(text)
    assert len(out) == len(text)
    for before, after in zip(text, out, strict=True):
        if unicodedata.category(before) in UNSAFE:
            assert after == "?"
        else:
            assert after == before
    assert not any(is_unsafe(ch) for ch in out)
    assert sanitize(out) == out


@given(st.text(alphabet=st.characters(codec=None), max_size=100))
def test_sanitize_lines_keeps_only_line_feeds(text: str) -> None:
    out = sanitize_lines(text)
    assert out.count("\n") == text.count("\n")
    assert not any(is_unsafe(ch) for ch in out.replace("\n", ""))


def test_the_limit_still_cuts_with_an_ellipsis() -> None:
    assert sanitize("abcdef\u200f", 4) == "abc…"


def test_error_messages_are_made_safe_where_they_are_made() -> None:
    hostile = "boom\x1b]2;TITLE\x07\x1b]52;c;cm0gLXJmIH4=\x07\u202eevil"
    exc = api_error_for(-77, hostile)
    assert isinstance(exc, ApiError)
    assert "\x1b" not in exc.message and "\x07" not in exc.message
    assert "\u202e" not in exc.message and "?]2;TITLE?" in exc.message
    assert str(exc) == exc.message
    multi = CredentialsError("first \x1b[31m\nsecond \u200b")
    assert multi.message == "first ?[31m\nsecond ?"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.2.1", "::1", "[::1]", "localhost",
                                  "LOCALHOST", "localhost."])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["10.0.0.1", "0.0.0.0", "localhost.example.com",
                                  "127.0.0.1.nip.io", "api.itniotech.com", "::ffff:8.8.8.8"])
def test_remote_hosts(host: str) -> None:
    assert not is_loopback_host(host)


def test_transport_policy() -> None:
    assert check_transport("https://api.example.com") is None
    assert check_transport("http://127.0.0.1:8765") is None
    assert check_transport("http://[::1]:8765") is None
    assert check_transport("http://localhost:1") is None
    with pytest.raises(InsecureTransportError) as info:
        check_transport("http://api.example.com")
    assert "--allow-insecure-http" in info.value.message
    assert "api.example.com" in info.value.message
    warning = check_transport("http://api.example.com", allow_insecure_http=True)
    assert warning is not None and "unencrypted" in warning

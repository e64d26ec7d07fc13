from __future__ import annotations

import pickle

import pytest

from callwatch.api.signing import Secret, sign, signed_headers


def test_vendor_vector() -> None:
    assert sign("bDqJFiq9", Secret("7bz1lzh9"), 1630468800) == "05d7a50893e22a5c4bb3216ae3396c7c"


def test_headers_have_the_four_fields() -> None:
    h = signed_headers("bDqJFiq9", Secret("7bz1lzh9"), 1630468800)
    assert h == {
        "Content-Type": "application/json;charset=UTF-8",
        "Api-Key": "bDqJFiq9",
        "Timestamp": "1630468800",
        "Sign": "05d7a50893e22a5c4bb3216ae3396c7c",
    }


def test_secret_never_shows_itself() -> None:
    s = Secret("canary-7bz1lzh9")
    for shown in (repr(s), str(s), f"{s}", f"{s!r}", f"{s:>20}", repr([s]), repr({"k": s})):
        assert "canary" not in shown
    assert s.reveal() == "canary-7bz1lzh9"
    with pytest.raises(TypeError):
        pickle.dumps(s)

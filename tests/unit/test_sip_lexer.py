"""The lexer's fast paths give exactly what the character walk gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drivers.sip.lexer import has_bare_nul, split_scanning, split_unquoted

# Header-ish text, rich in the characters that matter to the walk.
texts = st.text(alphabet=st.sampled_from('ab ,;<>"\\\x00=:@'), max_size=40)


@given(texts, st.sampled_from([",", ";"]), st.booleans())
def test_split_fast_paths_agree_with_the_walk(text: str, sep: str, brackets: bool) -> None:
    assert split_unquoted(text, sep, brackets) == split_scanning(text, sep, brackets)


def test_split_examples() -> None:
    assert split_unquoted('"a, b" <sip:x>, <sip:y;p=1,2>', ",", True) == [
        '"a, b" <sip:x>', " <sip:y;p=1,2>"]
    assert split_unquoted("a;b;;c", ";") == ["a", "b", "", "c"]
    assert split_unquoted("abc", ";") == ["abc"]


def test_bare_nul() -> None:
    assert not has_bare_nul("plain")
    assert has_bare_nul("a\x00b")
    assert not has_bare_nul('"a\\\x00b"')  # escaped inside quotes: legal
    assert has_bare_nul('"a\x00b"')

from hypothesis import given
from hypothesis import strategies as st

from imapcore.store import uidranges

uid_lists = st.lists(st.integers(1, 200), max_size=60).map(lambda xs: sorted(set(xs)))


@given(present=uid_lists, removed=st.lists(st.integers(0, 210), max_size=40).map(lambda xs: sorted(set(xs))))
def test_remove_matches_set_difference(present, removed):
    runs = uidranges.from_uids(present)
    assert uidranges.expand(runs) == tuple(present)
    left = uidranges.remove(runs, removed)
    assert uidranges.expand(left) == tuple(sorted(set(present) - set(removed)))
    assert left == uidranges.from_uids(sorted(set(present) - set(removed)))  # canonical: no adjacent runs
    assert uidranges.decode(uidranges.encode(left)) == left


@given(present=uid_lists, extra=st.integers(1, 30), gap=st.integers(1, 3))
def test_append_run_extends_or_starts_a_run(present, extra, gap):
    runs = uidranges.from_uids(present)
    low = (present[-1] if present else 0) + gap
    grown = uidranges.append_run(runs, low, low + extra - 1)
    assert uidranges.expand(grown) == tuple(present) + tuple(range(low, low + extra))
    assert grown == uidranges.from_uids(list(uidranges.expand(grown)))


@given(present=uid_lists, extra=st.integers(0, 30), gap=st.integers(1, 3))
def test_append_run_text_equals_decoding_and_encoding(present, extra, gap):
    text = uidranges.encode(uidranges.from_uids(present))
    low = (present[-1] if present else 0) + gap
    expected = uidranges.encode(uidranges.append_run(uidranges.decode(text), low, low + extra - 1))
    assert uidranges.append_run_text(text, low, low + extra - 1) == expected

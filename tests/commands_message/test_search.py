"""SEARCH / UID SEARCH transcripts (RFC 9051 §6.4.4, RFC 3501, RFC 4731 ESEARCH, RFC 5182 SEARCHRES,
RFC 7162 §3.1.5 MODSEQ)."""

from __future__ import annotations

import re


async def test_rev1_search_responses(mailbox, login):
    client = await login(mailbox)
    assert await client.command("s1", "SEARCH FLAGGED") == [b"* SEARCH 2\r\n", b"s1 OK Search completed\r\n"]
    assert await client.command("s2", "SEARCH SUBJECT lunch") == [b"* SEARCH 1 3\r\n", b"s2 OK Search completed\r\n"]
    assert await client.command("s3", "UID SEARCH OR FROM carol FROM dave") == [
        b"* SEARCH 2 5\r\n", b"s3 OK Search completed\r\n"]
    assert await client.command("s4", "SEARCH CHARSET UTF-8 NOT SEEN BODY message") == [
        b"* SEARCH 2 3 5\r\n", b"s4 OK Search completed\r\n"]
    assert await client.command("s5", "SEARCH KEYWORD $label1 RECENT") == [b"* SEARCH 4\r\n", b"s5 OK Search completed\r\n"]
    assert await client.command("s6", "SEARCH DELETED") == [b"* SEARCH\r\n", b"s6 OK Search completed\r\n"]
    assert await client.command("s7", "SEARCH CHARSET KOI8-R ALL") == [
        b"s7 NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset KOI8-R\r\n"]
    assert await client.command("s8", "SEARCH 2:4 UNSEEN") == [b"* SEARCH 2 3\r\n", b"s8 OK Search completed\r\n"]
    await client.aclose()


async def test_esearch_return_options(mailbox, login):
    client = await login(mailbox)
    assert await client.command("e1", "UID SEARCH RETURN (MIN MAX COUNT ALL) ALL") == [
        b'* ESEARCH (TAG "e1") UID MIN 1 MAX 5 ALL 1:5 COUNT 5\r\n', b"e1 OK Search completed\r\n"]
    assert await client.command("e2", "SEARCH RETURN () UNSEEN") == [
        b'* ESEARCH (TAG "e2") ALL 2:3,5\r\n', b"e2 OK Search completed\r\n"]
    # RFC 4731 §3.1: MIN, MAX and ALL are left out when nothing matched; COUNT is 0.
    assert await client.command("e3", "SEARCH RETURN (MIN COUNT) DELETED") == [
        b'* ESEARCH (TAG "e3") COUNT 0\r\n', b"e3 OK Search completed\r\n"]
    assert await client.command("e4", "SEARCH RETURN (PARTIAL 1:5) ALL") == [
        b"e4 BAD Unsupported search return option PARTIAL\r\n"]
    await client.aclose()


async def test_rev2_search_answers_with_esearch(mailbox, login):
    client = await login(mailbox, enable="IMAP4rev2")
    assert await client.command("r1", "SEARCH SEEN") == [b'* ESEARCH (TAG "r1") ALL 1,4\r\n', b"r1 OK Search completed\r\n"]
    assert await client.command("r2", "UID SEARCH SUBJECT nothing-like-this") == [
        b'* ESEARCH (TAG "r2") UID\r\n', b"r2 OK Search completed\r\n"]
    await client.aclose()


async def test_searchres_save_and_dollar(mailbox, login):
    client = await login(mailbox)
    # SAVE alone: no ESEARCH (RFC 5182 §2.1); "$" then names the saved messages.
    assert await client.command("v1", "SEARCH RETURN (SAVE) SUBJECT lunch") == [b"v1 OK Search completed\r\n"]
    assert await client.command("v2", "FETCH $ (UID)") == [
        b"* 1 FETCH (UID 1)\r\n", b"* 3 FETCH (UID 3)\r\n", b"v2 OK Fetch completed\r\n"]
    assert await client.command("v3", "UID SEARCH UID $ SEEN") == [b"* SEARCH 1\r\n", b"v3 OK Search completed\r\n"]
    assert await client.command("v4", "SEARCH OR $ FLAGGED") == [b"* SEARCH 1 2 3\r\n", b"v4 OK Search completed\r\n"]
    # SAVE with MIN/MAX only saves those (RFC 5182 §2.4), and reports them.
    assert await client.command("v5", "SEARCH RETURN (SAVE MAX) NOT SEEN") == [
        b'* ESEARCH (TAG "v5") MAX 5\r\n', b"v5 OK Search completed\r\n"]
    assert await client.command("v6", "UID STORE $ +FLAGS (\\Answered)") == [
        b"* 5 FETCH (UID 5 FLAGS (\\Answered \\Recent))\r\n", b"v6 OK Store completed\r\n"]
    # A failed SEARCH ... SAVE leaves "$" empty.
    assert (await client.command("v7", "SEARCH RETURN (SAVE) CHARSET X-NONE ALL"))[-1].startswith(b"v7 NO [BADCHARSET")
    assert await client.command("v8", "SEARCH $") == [b"* SEARCH\r\n", b"v8 OK Search completed\r\n"]
    await client.aclose()


async def test_modseq_search(mailbox, login):
    client = await login(mailbox)
    lines = await client.command("m1", "SEARCH MODSEQ 1")
    assert re.fullmatch(rb"\* OK \[HIGHESTMODSEQ (\d+)\] .*\r\n", lines[0])
    highest = int(re.search(rb"\d+", lines[0]).group())
    assert lines[1] == f"* SEARCH 1 2 3 4 5 (MODSEQ {highest})\r\n".encode()
    assert await client.command("m2", f"SEARCH MODSEQ {highest + 1}") == [b"* SEARCH\r\n", b"m2 OK Search completed\r\n"]
    assert await client.command("m3", f"SEARCH RETURN (COUNT) MODSEQ {highest}") == [
        f'* ESEARCH (TAG "m3") COUNT 1 MODSEQ {highest}\r\n'.encode(), b"m3 OK Search completed\r\n"]
    await client.aclose()


async def test_sort(mailbox, login):
    client = await login(mailbox)
    # Base subjects (RFC 5256 §2.1): "Re: Lunch plans" sorts with "Lunch plans", ties in mailbox order.
    assert await client.command("o1", "SORT (SUBJECT) UTF-8 ALL") == [b"* SORT 5 1 3 2 4\r\n", b"o1 OK Sort completed\r\n"]
    # DATE is the Date: header in UTC: message 4 (09:00 +0100) is before message 1 (10:00 +0000).
    assert await client.command("o2", "SORT (DATE) UTF-8 ALL") == [b"* SORT 4 1 2 3 5\r\n", b"o2 OK Sort completed\r\n"]
    # REVERSE applies to its key only; equal keys stay in mailbox order (RFC 5256 §3).
    assert await client.command("o3", "SORT (REVERSE FROM) UTF-8 ALL") == [
        b"* SORT 5 2 1 3 4\r\n", b"o3 OK Sort completed\r\n"]
    assert await client.command("o4", "SORT (DISPLAYFROM REVERSE SIZE) US-ASCII NOT FROM carol") == [
        b"* SORT 4 3 1 5\r\n", b"o4 OK Sort completed\r\n"]
    assert await client.command("o5", "UID SORT (ARRIVAL) UTF-8 SUBJECT lunch") == [
        b"* SORT 1 3\r\n", b"o5 OK Sort completed\r\n"]
    assert await client.command("o6", "SORT (SUBJECT) KOI8-R ALL") == [
        b"o6 NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset KOI8-R\r\n"]
    await client.aclose()

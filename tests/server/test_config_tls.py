"""Configuration loading and the TLS set-up (a real handshake on 127.0.0.1)."""

import ssl

import pytest
import trio

from imapcore.server import config as cfg
from imapcore.server.tls import ensure_self_signed, server_context


def test_embedded_defaults(monkeypatch):
    monkeypatch.delenv("IMAPCORE_DATA", raising=False)
    c = cfg.load()
    assert c.data_dir == "./imapcore-data"
    assert c.listen == ("127.0.0.1:1143",) and c.listen_tls == ("127.0.0.1:1993",)
    assert c.timeouts.idle_timeout_s >= 30 * 60  # RFC 9051 §5.4
    monkeypatch.setenv("IMAPCORE_DATA", "/srv/mail")
    assert cfg.load().data_dir == "/srv/mail"


def test_toml_and_overrides(tmp_path):
    path = tmp_path / "imapcore.toml"
    path.write_text(
        'data_dir = "/d"\nlisten = ["0.0.0.0:143", "[::1]:143"]\n'
        "[limits]\nmax_literal_bytes = 1024\n[timeouts]\nidle_timeout_s = 3600\n"
    )
    c = cfg.load(path, listen_tls=("127.0.0.1:9993",))
    assert c.data_dir == "/d"
    assert c.listen == ("0.0.0.0:143", "[::1]:143")
    assert c.listen_tls == ("127.0.0.1:9993",)
    assert c.limits.max_literal_bytes == 1024 and c.limits.max_line_bytes == 64 * 1024
    assert c.timeouts.idle_timeout_s == 3600.0
    assert cfg.parse_address("[::1]:143") == ("::1", 143)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[limits]\nmax_literal_byte = 5\n", "unknown configuration key 'limits.max_literal_byte'"),
        ("[limits]\nmax_literal_bytes = 'big'\n", "limits.max_literal_bytes: expected a non-negative integer"),
        ("listen = ['nohostport']\n", "invalid listen address"),
        ("data_dir = 5\n", "data_dir: expected a string"),
        ("limits = 3\n", "limits: expected a table"),
        ("= broken", "imapcore.toml"),
    ],
)
def test_bad_config_is_refused_with_the_key(tmp_path, text, message):
    path = tmp_path / "imapcore.toml"
    path.write_text(text)
    with pytest.raises(cfg.ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        cfg.load(path)


def test_self_signed_is_created_once(tmp_path):
    cert, key, created = ensure_self_signed(tmp_path)
    assert created and cert.exists() and key.exists()
    assert (key.stat().st_mode & 0o777) == 0o600
    again = ensure_self_signed(tmp_path)
    assert again == (cert, key, False)


async def _handshake(server_ctx, client_ctx):
    """Run one TLS server on a random loopback port and connect one client; return the client stream."""
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    greeting = b"* OK hello\r\n"

    async def serve_one():
        stream = await listeners[0].accept()
        tls = trio.SSLStream(stream, server_ctx, server_side=True)
        try:
            await tls.send_all(greeting)
        except trio.BrokenResourceError:
            pass  # a refused handshake: the client sees the alert and the close
        finally:
            await trio.aclose_forcefully(tls)

    try:
        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(serve_one)
                plain = await trio.open_tcp_stream("127.0.0.1", port)
                tls = trio.SSLStream(plain, client_ctx, server_hostname="localhost")
                try:
                    received = await tls.receive_some(100)
                    return received, tls.version()
                except trio.BrokenResourceError as exc:
                    return None, repr(exc.__cause__)
                finally:
                    await trio.aclose_forcefully(tls)
    finally:
        for listener in listeners:
            await listener.aclose()


async def test_tls_handshake_on_loopback(tmp_path):
    cert, key, _ = ensure_self_signed(tmp_path)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    received, version = await _handshake(server_context(cert, key), client_ctx)
    assert received == b"* OK hello\r\n"
    assert version in ("TLSv1.2", "TLSv1.3")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # TLSVersion.TLSv1 is deprecated, on purpose
async def test_tls_below_1_2_is_refused(tmp_path):
    cert, key, _ = ensure_self_signed(tmp_path)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.load_verify_locations(str(cert))
    # A client that could only speak TLS 1.0/1.1 (seclevel 0 so that its own OpenSSL offers them).
    client_ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    client_ctx.minimum_version = ssl.TLSVersion.TLSv1
    client_ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    received, error = await _handshake(server_context(cert, key), client_ctx)
    assert received is None
    assert "VERSION" in error.upper() or "PROTOCOL" in error.upper(), error

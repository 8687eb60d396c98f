"""Sans-IO IMAP server protocol: the connection state machine, responses and their serializer.

Nothing here does I/O or imports trio (a test checks it). Entry points:

* ``connection.Connection``: ``receive_data(bytes)``, ``next_event()``, ``send(response) -> bytes``;
* ``responses``: response objects (tagged, untagged status and data, continuation) and the value
  model that picks atom / quoted / literal;
* ``codes``: response codes (``[COPYUID ...]``) and their builders;
* ``states``: the connection states, the table of commands allowed per state, the transitions;
* ``errors``: ``BadCommand`` / ``CommandFailed`` for handlers, and ``completion_for`` mapping them;
* ``fetch``: ``serialize_fetch_batch`` for large FETCH responses (C with a pure-Python twin);
* ``encode``: the atom / quoted / literal choice for one string.
"""

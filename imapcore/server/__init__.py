"""The Trio shell: listeners, sessions, TLS, limits and shutdown. The only layer that touches sockets."""

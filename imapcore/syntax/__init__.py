"""Bytes to typed commands: the tokenizer (C or Python twin) and the Lark grammar of IMAP.

Sans-IO: nothing here imports trio or touches sockets, clocks or storage.
"""

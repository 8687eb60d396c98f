"""Authentication: password hashing, the verification cache, SASL mechanisms.

``passwords`` hashes with argon2id (memory-hard, RFC 9106); ``cache`` remembers recent successful
verifications so a phone that logs in every minute does not pay 100 ms of argon2 each time;
``sasl`` decodes the PLAIN and LOGIN mechanisms; ``authenticator`` ties them to the user directory and
runs the hash off the event loop.
"""

"""Encryption at rest for datasets and models: Custos' streaming format (docs/encryption.md)
on AES-256-GCM, with a per-file data key wrapped by a key-encryption key (KEK).

`format` is the pure layout (header, nonces); `stream` encrypts, decrypts and rewraps files
through it. Nothing here decides where keys live."""

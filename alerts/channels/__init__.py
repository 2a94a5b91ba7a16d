"""The channel kinds: one module each."""

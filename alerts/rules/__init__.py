"""The rule kinds: one module each."""

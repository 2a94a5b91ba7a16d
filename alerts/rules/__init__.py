"""The rule kinds: one module each, all imported here so that each registers itself on
`Rule.kinds` (a new kind is one new file in this folder)."""

from core.registry import import_kinds

import_kinds(__name__, __path__)

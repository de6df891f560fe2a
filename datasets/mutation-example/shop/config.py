"""Settings read at import time (mutants here change what importing the package does)."""

CENTS = 100
# A mutant that makes CENTS zero breaks the import itself.
CENT = 1 / CENTS

"""The only code that changes cases: one function per action (docs/architecture.md)."""

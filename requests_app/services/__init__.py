"""The only code that changes cases: one function per action (STYLE.md "One layer writes")."""

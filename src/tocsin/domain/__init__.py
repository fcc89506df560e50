"""Pure rules of tocsin: standard library only (a test keeps it that way)."""

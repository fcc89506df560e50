"""adapters/cli."""

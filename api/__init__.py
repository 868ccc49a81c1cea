"""HTTP API and command-line entry point."""

"""End-to-end tests: real processes and real servers."""

"""Use cases every entry point (CLI, HTTP, scheduler, workers) converges on."""

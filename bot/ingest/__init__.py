"""Ingest: polite HTTP, the sources (bytes -> records) and polling into the store.

See ARCHITECTURE.md for the layers and what each may import."""

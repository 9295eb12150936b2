"""The Discord-free core: arXiv ids, topics and the taxonomy, matching, digest building, text.

See ARCHITECTURE.md for the layers and what each may import."""

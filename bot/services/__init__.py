"""Application services the cogs and the command line call: Discord-free, over the store and ingest.

See ARCHITECTURE.md for the layers and what each may import."""

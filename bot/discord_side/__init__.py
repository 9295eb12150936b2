"""Everything that knows Discord: payload limits and rendering, paper cards, delivery, the bot class.

See ARCHITECTURE.md for the layers and what each may import."""

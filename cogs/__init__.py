"""Discord cogs: thin layers that parse an interaction, call a service and render the answer."""

"""Test doubles: real servers on 127.0.0.1 (feeds and arXiv, Discord)."""

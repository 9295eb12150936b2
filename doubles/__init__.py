"""Test doubles: real servers on 127.0.0.1 that the unmodified bot talks to -- a fake Discord
(:mod:`doubles.discord`) and a feed/arXiv server (:mod:`doubles.feed_server`) -- with the harness
that starts the bot against them (:mod:`doubles.harness`) and feed/config builders
(:mod:`doubles.fixtures`).

Used by ``tests/`` and ``bench/``; not part of the shipped package (pyproject's
``[tool.setuptools.packages.find]`` includes only ``bot``, ``cogs`` and ``storage``).
"""

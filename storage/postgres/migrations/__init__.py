"""The PostgreSQL store's numbered migrations (``NNNN_name.sql``), read by :mod:`storage.postgres.schema`."""

-- Digests for many channels at once ask which of a batch of items any of them already has.
CREATE INDEX deliveries_item ON deliveries (kind, item_key);

"""A tiny shop: prices, stock and product names (evalfleet's mutation-testing example)."""

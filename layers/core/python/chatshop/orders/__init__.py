"""Orders: carts priced from the catalog, stock reserved atomically, payment and the order's life."""

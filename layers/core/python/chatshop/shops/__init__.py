"""The shops context: merchants, shops and their catalogs."""

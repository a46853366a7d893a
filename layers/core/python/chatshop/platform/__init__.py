"""The platform of every chatshop function: config, AWS clients, observability, errors, HTTP
mapping and rollout gates. Import the submodule you need; nothing heavy is imported here."""

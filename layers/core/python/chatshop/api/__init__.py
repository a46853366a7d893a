"""The public HTTP contract of every function behind API Gateway (its OpenAPI document)."""

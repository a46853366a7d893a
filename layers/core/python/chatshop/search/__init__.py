"""Visual and text product search: embeddings, the vector index and hybrid ranking."""

"""Files users write: YAML that remembers where every value stood, and the one pydantic base model for them."""

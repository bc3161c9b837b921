"""Reply generation: OpenAI-compatible providers behind a router, and the offline responder."""

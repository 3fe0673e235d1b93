"""Key backends. A backend holds keys and signs; it never imports ``signer``."""

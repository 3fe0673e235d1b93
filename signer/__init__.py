"""Sealward: a Clef-compatible external signer for Ethereum nodes."""

__version__ = "0.1.0"

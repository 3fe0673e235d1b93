"""Wire encodings: Go/clef hex rules, addresses, content types, EIP-191 and EIP-712, transactions."""

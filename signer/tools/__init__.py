"""Tools around the signer: a geth-like IPC client and the self-contained sealing demo."""

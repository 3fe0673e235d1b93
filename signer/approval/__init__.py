"""Approval: every request passes the rules (when attested) and then a human UI."""

"""Privacy by design: pseudonymisation, consent, erasure, suppression, roles."""

"""Activation: what empreinte does with what it knows — next best offers, loyalty points and
brand-funded challenges, the year-in-review story, and destinations (the tools segments and
traits are sent to). Every part sits behind the consent ledger (privacy/consent.py)."""

"""Loyalty: a double-entry points ledger (earned by buying, visiting and answering, spent by
redemption, lapsing after `[loyalty] expiry`), and campaigns of challenges co-funded by brands
with a holdout for incrementality (docs/loyalty.md). `workspace.loyalty` is its face."""

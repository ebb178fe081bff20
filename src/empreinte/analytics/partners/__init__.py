"""Aggregated partner insights: for a brand, category-level reports over the customer base
(penetration, repeat rate, switching, share of wallet; by generation, country or city) with no
cell describing fewer than k people, and no withheld cell recoverable from the rest
(docs/partners.md). `counts.py` counts in the engine, `cells.py` withholds, `report.py` shapes
the tables, `service.py` is `workspace.partners`."""

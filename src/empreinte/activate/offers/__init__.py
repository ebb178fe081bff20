"""Next best offers (issue 15): an offer catalogue, a recommender trained from the log
(item-item cosine similarity), Thompson sampling over each person's "no"s, and the serving path
behind `GET /api/offers/next`. docs/offers.md has the rules; `workspace.offers` is the service."""

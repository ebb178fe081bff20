"""Analytics over the event log and profiles: CX metrics, journeys, segments and more."""

"""Customer-experience measurement: NPS/CSAT/CES, the Kano model and experiments."""

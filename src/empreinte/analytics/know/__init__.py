"""Know the user: segments, generations, personas, RFM, customer value and churn (issue 13)."""

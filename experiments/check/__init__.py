"""`marketsim check`: theory checks, the stylized-fact table and lever directions."""

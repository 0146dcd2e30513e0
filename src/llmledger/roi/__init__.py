"""Return on investment: business outcomes per scope, and the cost of each outcome.

See docs/roi.md. `metrics` declares what is counted, `outcomes` records and imports the
counts, `figures` divides the ledger's cost (the rollups) by them.
"""

"""Invoice reconciliation: the providers' own cost reports against the ledger.

`formats` reads each provider's report into normalised `CostLine`s, `store` keeps them,
`compare` matches them with the ledger by UTC day, provider and model, and `explain`
names the usual causes of a difference. See docs/reconciliation.md.
"""

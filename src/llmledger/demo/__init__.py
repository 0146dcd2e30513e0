"""``llmledger demo``: a fresh store with a year of a mid-size company's LLM usage.

`company` holds the org chart, agents, models and budgets as data; `plan` turns them into
dollars per agent and day; `calls` and `generator` turn those into priced events written
by the ledger; `setup` builds the store; `live` and `serve` run it with live traffic.
"""

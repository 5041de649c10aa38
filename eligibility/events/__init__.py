"""Life events (birth, death, marriage, pregnancy, 户籍 moves, enterprise registered or
deregistered): ingested from departments, recorded with explicit unique ids, correlated across
departments by small durable_rules rulesets, and turned into immediate protective actions (a
death suspends grants) and re-evaluation of the subjects concerned."""

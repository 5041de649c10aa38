"""The payments ledger: one row per (grant, period) in integer fen, reconciled against each
grant's amount schedule and end date (back-pay, top-ups, overpayment recovery), legacy payments
honoured, and deterministic payment batches written as files for the treasury."""

"""Eligibility: policies as data, evaluated over the whole population and explained.

- ``expr/``: the expression language (lexer, parser, AST, types, type checker against the data
  catalog). User text is parsed, never evaluated by Python.
- ``views``: what an expression can see of a subject kind (person, enterprise, child), derived
  from ``app.datahub.catalog``; frame columns and dtypes.
- ``builtins`` / ``workdays``: the Polars implementation of each built-in function; the working-
  day calendar (``data/holidays_cn.csv``).
- ``compiler``: a checked policy → one set of Polars expressions and per-subject aggregate joins.
- ``evaluator``: ``evaluate_population`` (all subjects at once) and single-subject evaluation,
  both running the same compiled plan; ``explain``: the per-subject explanation in plain Chinese
  with inputs, provenance and what would make a failed condition pass.
- ``policy/``: the YAML policy document -- model (with the JSON Schema in ``policy.schema.json``),
  loader with line/column errors, decision tables, dated parameters, version hash, test-case
  runner, diff.
- ``frames``: the data an evaluation runs on (one frame per dataset), restriction to some
  subjects, and frames built from inline test-case data; ``repository``: the same frames loaded
  from the database (SQLite or PostgreSQL).
- ``service``: preview (impact on the population held) and explain-by-ID used by the CLI.

The auto-grant pipeline built on these lives in sub-packages: ``sweeps`` (who is evaluated when,
sharded across workers), ``grants`` (decisions with provenance, the grant lifecycle, the review
queue), ``payments`` (the ledger and payment batches) and ``events`` (life events correlated with
durable_rules). Not here yet: policy lifecycle persistence (draft → approved, four eyes).
"""

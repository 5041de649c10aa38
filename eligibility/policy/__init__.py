"""The policy document: ``model`` (pydantic model of the YAML format; the JSON Schema is made
from it), ``source`` (YAML with line/column positions, bounded against hostile input),
``params`` (dated parameter values), ``tables`` and ``table_compile`` (decision tables: cells,
overlap/coverage analysis, Polars outputs), ``compile`` (every expression checked, dependency
order), ``loader`` (file → compiled policy, version hash), ``testing`` (runs a policy's test
cases), ``diff`` (what changed between two versions)."""

from eligibility.policy.compile import CompiledPolicy
from eligibility.policy.loader import load_file, load_text, policy_version
from eligibility.policy.source import Issue, PolicyError

__all__ = ["CompiledPolicy", "Issue", "PolicyError", "load_file", "load_text", "policy_version"]

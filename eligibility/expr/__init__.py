"""The policy expression language.

``lexer`` (text → tokens with line/column), ``parser`` (tokens → ``nodes`` AST, bounded depth),
``types`` (value types and how they combine), ``functions`` (built-in signatures), ``checker``
(names resolved against the evaluation view of the data catalog, types assigned),
``constants`` (literal folding), ``errors`` (the one error type and the hard limits).

User text is only ever tokenized and parsed by this package: it is never handed to ``eval``,
``exec``, ``compile`` or Python's ``ast``. Compiling a checked tree to Polars is
``eligibility.compiler``'s job.
"""

from eligibility.expr.checker import Scope, Usage, check
from eligibility.expr.errors import ExprError, Pos
from eligibility.expr.nodes import Node
from eligibility.expr.parser import parse

__all__ = ["ExprError", "Node", "Pos", "Scope", "Usage", "check", "parse"]

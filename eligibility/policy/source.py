"""Reading policy YAML with positions: plain data plus the line and column of every value.

PyYAML's node marks give where each value starts; for expressions this module also maps a
character offset inside the value back to the file (plain, quoted, literal ``|`` and folded ``>``
scalars alike), so an error in the third line of a ``|`` block points at that line.

Hostile input is bounded: size, number of nodes (aliases included, so "billion laughs" stops
early), nesting depth; duplicate keys and non-standard tags are errors, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_DOCUMENT_BYTES = 200_000  # pure-Python YAML parses this in well under a second
MAX_NODES = 50_000
MAX_NESTING = 40

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Issue:
    """One problem found in a policy file, with 1-based line and column (0 when unknown)."""

    message: str
    line: int = 0
    column: int = 0
    path: str = ""

    def __str__(self) -> str:
        where = f"{self.line}:{self.column}: " if self.line else ""
        at = f" (at {self.path})" if self.path else ""
        return f"{where}{self.message}{at}"


class PolicyError(Exception):
    """A policy file that cannot be used, with every issue found."""

    def __init__(self, issues: list[Issue], source: str = "") -> None:
        self.issues = issues
        self.source = source
        super().__init__(
            "\n".join(f"{source}:{issue}" if source else str(issue) for issue in issues)
        )


def path_text(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class SourceDocument:
    text: str
    data: Any
    nodes: dict[Path, Node] = field(default_factory=dict)

    def position(self, path: Path) -> tuple[int, int]:
        """Line and column of the value at ``path`` (or of its nearest ancestor)."""
        while path and path not in self.nodes:
            path = path[:-1]
        node = self.nodes.get(path)
        if node is None:
            return 0, 0
        return node.start_mark.line + 1, node.start_mark.column + 1

    def issue(self, message: str, path: Path) -> Issue:
        line, column = self.position(path)
        return Issue(message, line, column, path_text(path))

    def offset_position(self, path: Path, offset: int) -> tuple[int, int]:
        """Line and column in the file of character ``offset`` of the scalar at ``path``."""
        node = self.nodes.get(path)
        if not isinstance(node, ScalarNode):
            return self.position(path)
        return _map_offset(self.text, node, offset)


def _map_offset(text: str, node: ScalarNode, offset: int) -> tuple[int, int]:
    value = node.value
    src_index = node.start_mark.index
    line, column = node.start_mark.line + 1, node.start_mark.column + 1
    end = node.end_mark.index
    if node.style in ("|", ">"):  # skip the block header line
        newline = text.find("\n", src_index, end)
        if newline < 0:
            return line, column
        src_index, line, column = newline + 1, line + 1, 1
    elif node.style in ("'", '"'):
        src_index, column = src_index + 1, column + 1
    for i, char in enumerate(value[: offset + 1]):
        while src_index < end and text[src_index] != char and text[src_index] in " \t\r\n'\"":
            if text[src_index] == "\n":
                line, column = line + 1, 1
            else:
                column += 1
            src_index += 1
        if i == offset:
            return line, column
        if src_index < end:
            if text[src_index] == "\n":
                line, column = line + 1, 1
            else:
                column += 1
            src_index += 1
    return line, column


class _Builder:
    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.nodes: dict[Path, Node] = {}
        self.count = 0
        self.issues: list[Issue] = []

    def issue(self, message: str, node: Node, path: Path) -> None:
        self.issues.append(
            Issue(message, node.start_mark.line + 1, node.start_mark.column + 1, path_text(path))
        )

    def build(self, node: Node, path: Path, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig(node)
        if depth > MAX_NESTING:
            raise _TooDeep(node)
        self.nodes[path] = node
        if isinstance(node, ScalarNode):
            try:
                return self.loader.construct_object(node)
            except (yaml.YAMLError, ValueError, OverflowError) as error:
                self.issue(f"bad value: {error}".splitlines()[0], node, path)
                return None
        if isinstance(node, SequenceNode):
            return [self.build(child, (*path, i), depth + 1) for i, child in enumerate(node.value)]
        if isinstance(node, MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode):
                    self.issue("mapping keys must be plain text", key_node, path)
                    continue
                key = key_node.value
                if key in out:
                    self.issue(f"duplicate key {key!r}", key_node, path)
                    continue
                out[key] = self.build(value_node, (*path, key), depth + 1)
            return out
        self.issue("unsupported YAML node", node, path)
        return None


class _TooBig(Exception):
    def __init__(self, node: Node) -> None:
        self.node = node


class _TooDeep(_TooBig):
    pass


MAX_BRACKETS = 100


def _check_bracket_depth(text: str) -> None:
    """Reject deep flow nesting before PyYAML, whose scanner is quadratic in it."""
    depth = 0
    line = 1
    for char in text:
        if char in "[{":
            depth += 1
            if depth > MAX_BRACKETS:
                raise PolicyError([Issue(f"more than {MAX_BRACKETS} nested brackets", line, 1)])
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif char == "\n":
            line += 1


def read_source(text: str) -> SourceDocument:
    """Parse YAML text into data with positions; raises :class:`PolicyError`."""
    if len(text.encode("utf-8", errors="replace")) > MAX_DOCUMENT_BYTES:
        raise PolicyError([Issue(f"policy file larger than {MAX_DOCUMENT_BYTES} bytes", 1, 1)])
    _check_bracket_depth(text)
    loader: yaml.SafeLoader | None = None
    try:
        # The pure-Python loader on purpose: libyaml's recursive composer can crash the process
        # on deeply nested input, this one raises RecursionError, which is reported.
        loader = yaml.SafeLoader(text)
        root = loader.get_single_node()
        if root is None:
            raise PolicyError([Issue("empty policy file", 1, 1)])
        builder = _Builder(loader)
        data = builder.build(root, (), 0)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise PolicyError(
            [Issue(f"YAML: {error.problem or error.context}", line, column)]
        ) from None
    except yaml.YAMLError as error:
        raise PolicyError([Issue(f"YAML: {error}".splitlines()[0], 1, 1)]) from None
    except _TooDeep as error:
        mark = error.node.start_mark
        raise PolicyError(
            [Issue(f"nested deeper than {MAX_NESTING} levels", mark.line + 1, mark.column + 1)]
        ) from None
    except _TooBig as error:
        mark = error.node.start_mark
        raise PolicyError(
            [Issue(f"more than {MAX_NODES} values (aliases count)", mark.line + 1, mark.column + 1)]
        ) from None
    except RecursionError:
        raise PolicyError([Issue("YAML nested too deeply", 1, 1)]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if builder.issues:
        raise PolicyError(builder.issues)
    return SourceDocument(text=text, data=data, nodes=builder.nodes)

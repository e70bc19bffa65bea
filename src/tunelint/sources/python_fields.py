"""Which fields of each libcst node the walk reads, in libcst's visiting order.

libcst nodes keep whitespace, brackets, commas, operators and keywords in fields of their
own; most of a tree's nodes are those. The walk reads only the fields that can hold names,
strings, numbers or statements, listed here per class in source order (the order matters:
leaves are matched to tokens of the text by their order).
"""

from __future__ import annotations

import libcst as cst

# Fields that can hold names, strings, numbers or statements, in libcst's visiting order
# (source order); whitespace, brackets, commas, operators and keywords are left out.
FIELDS: dict[str, tuple[str, ...]] = {
    "AnnAssign": ("target", "annotation", "value"),
    "Annotation": ("annotation",),
    "Arg": ("keyword", "value"),
    "AsName": ("name",),
    "Assert": ("test", "msg"),
    "Assign": ("targets", "value"),
    "AssignTarget": ("target",),
    "Attribute": ("value", "attr"),
    "AugAssign": ("target", "value"),
    "Await": ("expression",),
    "BinaryOperation": ("left", "right"),
    "BooleanOperation": ("left", "right"),
    "Call": ("func", "args"),
    "ClassDef": ("decorators", "name", "type_parameters", "bases", "keywords", "body"),
    "CompFor": ("target", "iter", "ifs", "inner_for_in"),
    "CompIf": ("test",),
    "Comparison": ("left", "comparisons"),
    "ComparisonTarget": ("comparator",),
    "ConcatenatedString": ("left", "right"),
    "Decorator": ("decorator",),
    "Del": ("target",),
    "Dict": ("elements",),
    "DictComp": ("key", "value", "for_in"),
    "DictElement": ("key", "value"),
    "Element": ("value",),
    "Else": ("body",),
    "ExceptHandler": ("type", "name", "body"),
    "ExceptStarHandler": ("type", "name", "body"),
    "Expr": ("value",),
    "Finally": ("body",),
    "For": ("target", "iter", "body", "orelse"),
    "FormattedString": ("parts",),
    "FormattedStringExpression": ("expression", "format_spec"),
    "From": ("item",),
    "FunctionDef": ("decorators", "name", "type_parameters", "params", "returns", "body"),
    "GeneratorExp": ("elt", "for_in"),
    "Global": ("names",),
    "If": ("test", "body", "orelse"),
    "IfExp": ("body", "test", "orelse"),
    "Import": ("names",),
    "ImportAlias": ("name", "asname"),
    "ImportFrom": ("module", "names"),
    "IndentedBlock": ("body",),
    "Index": ("value",),
    "Lambda": ("params", "body"),
    "List": ("elements",),
    "LazyImport": ("names",),
    "LazyImportFrom": ("module", "names"),
    "ListComp": ("elt", "for_in"),
    "Match": ("subject", "cases"),
    "MatchAs": ("pattern", "name"),
    "MatchCase": ("pattern", "guard", "body"),
    "MatchClass": ("cls", "patterns", "kwds"),
    "MatchKeywordElement": ("key", "pattern"),
    "MatchList": ("patterns",),
    "MatchMapping": ("elements", "rest"),
    "MatchMappingElement": ("key", "pattern"),
    "MatchOr": ("patterns",),
    "MatchOrElement": ("pattern",),
    "MatchSequenceElement": ("value",),
    "MatchSingleton": ("value",),
    "MatchStar": ("name",),
    "MatchTuple": ("patterns",),
    "MatchValue": ("value",),
    "Module": ("body",),
    "NameItem": ("name",),
    "NamedExpr": ("target", "value"),
    "Nonlocal": ("names",),
    "Param": ("name", "annotation", "default"),
    "ParamSpec": ("name",),
    "Parameters": ("posonly_params", "params", "star_arg", "kwonly_params", "star_kwarg"),
    "Raise": ("exc", "cause"),
    "Return": ("value",),
    "Set": ("elements",),
    "SetComp": ("elt", "for_in"),
    "SimpleStatementLine": ("body",),
    "SimpleStatementSuite": ("body",),
    "Slice": ("lower", "upper", "step"),
    "StarredDictComp": ("value", "for_in"),
    "StarredDictElement": ("value",),
    "StarredElement": ("value",),
    "Subscript": ("value", "slice"),
    "SubscriptElement": ("slice",),
    "TemplatedString": ("parts",),
    "TemplatedStringExpression": ("expression", "format_spec"),
    "Try": ("body", "handlers", "orelse", "finalbody"),
    "TryStar": ("body", "handlers", "orelse", "finalbody"),
    "Tuple": ("elements",),
    "TypeAlias": ("name", "type_parameters", "value"),
    "TypeParam": ("param", "default"),
    "TypeParameters": ("params",),
    "TypeVar": ("name", "bound"),
    "TypeVarTuple": ("name",),
    "UnaryOperation": ("expression",),
    "While": ("test", "body", "orelse"),
    "With": ("items", "body"),
    "WithItem": ("item", "asname"),
    "Yield": ("value",),
}
# Leaves whose text is one token of the source, listed for the position mapping.
LEAVES = frozenset({cst.Name, cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary})


# Nodes with nothing to walk: whitespace, punctuation, operators, keyword statements.
_NOTHING_INSIDE = (  # noqa: SIM905 (a list of names, one string, is easier to read)
    "Add AddAssign And AssignEqual Asynchronous BitAnd BitAndAssign BitInvert BitOr"
    " BitOrAssign BitXor BitXorAssign Break Colon Comma Comment Continue Divide DivideAssign"
    " Dot Ellipsis EmptyLine Equal FloorDivide FloorDivideAssign FormattedStringText"
    " GreaterThan GreaterThanEqual ImportStar In Is IsNot LeftCurlyBrace LeftParen LeftShift"
    " LeftShiftAssign LeftSquareBracket LessThan LessThanEqual MatrixMultiply"
    " MatrixMultiplyAssign Minus Modulo ModuloAssign Multiply MultiplyAssign Newline Not"
    " NotEqual NotIn Or ParamSlash ParamStar ParenthesizedWhitespace Pass Plus Power"
    " PowerAssign RightCurlyBrace RightParen RightShift RightShiftAssign RightSquareBracket"
    " Semicolon SimpleWhitespace Subtract SubtractAssign TemplatedStringText"
    " TrailingWhitespace"
).split()


def _reversed_fields() -> dict[type, tuple[str, ...]]:
    """FIELDS keyed by class, reversed for a stack. A class in neither table (one a later
    libcst adds) is walked through its ``children``: slower, never skipped."""
    table: dict[type, tuple[str, ...]] = {cst.MaybeSentinel: ()}
    for name in _NOTHING_INSIDE:
        cls = getattr(cst, name, None)
        if isinstance(cls, type):
            table[cls] = ()
    for name, fields in FIELDS.items():
        cls = getattr(cst, name, None)
        if isinstance(cls, type):
            table[cls] = tuple(reversed(fields))
    return table


FIELDS_BY_CLASS = _reversed_fields()

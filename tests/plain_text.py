"""Python's own words, which no task reason, page or notification may show."""
import re

# Exception names and messages, tracebacks, reprs of Python types.
PYTHON_TEXT = re.compile(
    r"Traceback|\b(?:Key|Attribute|Type|Value|Index|Name|Lookup|Runtime|Assertion|ZeroDivision)Error\b|"
    r"NoneType|object has no attribute|object is not (?:subscriptable|iterable|callable)|"
    r"not supported between instances|unhashable type|File \"[^\"]+\", line \d+|<class '|Decimal\('")

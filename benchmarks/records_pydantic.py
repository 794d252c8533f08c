"""Imported by `bench_import --models`: the same records as Powertools parser (pydantic) models, one of each parsed."""
from benchmarks.record_models import parse_with_pydantic

PARSED = parse_with_pydantic()

"""Imported by `bench_import --models`: the records as cwsync ships them (dataclasses), one of each parsed."""
from benchmarks.record_models import parse_with_dataclasses

PARSED = parse_with_dataclasses()

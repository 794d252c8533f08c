"""The data sets that ship with cwsync (docs/SEED.md) and the scripts that generate them."""

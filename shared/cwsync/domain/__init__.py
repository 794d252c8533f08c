"""Pure sync rules: plain values in, plain values out, no I/O."""

"""Local-only parts of cwsync: simulators, embedded runtime and the cwsync command. Never deployed."""

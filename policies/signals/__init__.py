"""One module per protocol. Each reads messy remote input gently and returns `Signal` values."""

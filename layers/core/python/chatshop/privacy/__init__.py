"""Privacy: what a user agreed to (consent per purpose, with time, wording and source) and the rules
that follow from it; the ads context reads consent from here, never around it."""

"""The vocabulary every part shares, touching no database: periods, run status words,
formatting, the exception tree, the kind registry, checked config types, clocks and
deadlines. It imports nothing of ours, and little else, so that importing a word is cheap."""

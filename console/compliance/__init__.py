"""The compliance officer's pages of the console: the rulebook and its drafts, the explain
form, access decisions and accounts."""

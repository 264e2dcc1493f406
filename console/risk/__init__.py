"""The risk officer's console pieces: maker-checker kinds for markets, kill switches and
session parameters, and the pre-trade decision pages."""

"""The albums room: the user's albums and the machine's clusterings behind them (re-cluster, reconcile,
new photos, refine, export)."""

"""Stacks: bursts and copies of one picture folded into one tile (`rules`: which photos stack and the cover;
`signature`: what the rules read from thumbnails; `build`: recomputing the stacks after indexing; `store`:
stacks, the Duplicates list and the user's unstack and cover actions; `fold`: one representative per stack
for clustering)."""

"""The distributed room: lending PhotoAtlas a Ray cluster for indexing and clustering.

Ray is an optional extra (`photoatlas[ray]`) and is imported only here, only when a cluster is asked for, so
`import engine` and the window never load it. The desktop stays the only writer of its catalog: this room
plans nothing and writes nothing, it carries work to the cluster's actors and brings the results back.
"""

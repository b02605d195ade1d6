"""pks-monitoring: kube-prometheus and node_exporter for PKS/TKGI clusters, as a Pulumi program.

Where things live (the README's "Where things live" says more): `settings/` (one model per config
key), `upstream.py` (the kube-prometheus release and what the program relies on in it), `parts/`
(per part of the stack: its patches and added objects), `platforms/`, `components/`
(ComponentResources), `offline/` (the mock engine, the render and its diff).
"""

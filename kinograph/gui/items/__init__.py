"""Scene items: nodes, ports, links, reroute dots, backdrops and sticky notes."""

"""Continuous hunting (`stagehunt watch`): files under folders are ingested as they
arrive, detections run over the windows the new events touch, and each alert is
emitted once. The protocol that keeps this true across crashes is in
docs/reliability.md ("## watch")."""

#!/usr/bin/env python3
"""bridges.py BERTH_DB: the bridge links of the networks a test daemon
made (its user networks and the orchestrator's pod network), one per
line.  A network's bridge stays when its daemon stops, as dockerd's do;
the test teardowns remove them with `ip link del`."""
import json
import sqlite3
import sys

try:
    rows = sqlite3.connect(sys.argv[1]).execute("select id, record from networks").fetchall()
except sqlite3.Error:
    rows = []               # no database, or no network ever made
for nid, rec in rows:
    r = json.loads(rec)
    if (r.get("Driver") or "bridge") == "bridge":
        print((r.get("Options") or {}).get("com.docker.network.bridge.name") or "br-" + nid[:12])

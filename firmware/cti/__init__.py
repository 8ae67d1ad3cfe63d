"""CTI: the switch's call model for other programs (agent desktops, CRMs, wallboards).

`model` turns bus events into CTI events (sans I/O), `stats` computes the queue figures,
`commands` carries out CTI requests on the switch (call control, agent states, click to
dial), `protocol` describes the JSON-lines wire format; the asyncio socket server is
`firmware/switch/cti_server.py`. See docs/en/cti.md.
"""
